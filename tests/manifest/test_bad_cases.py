"""A table of bad manifests, each with the exact problems and places it must report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifest.util import problems, write

ORG = """\
version: 1
organizations:
  - name: acme
    provider: {provider}
    token: ${{env:TOKEN}}
    webhooks:
      - name: hook
"""

CASES: list[tuple[str, str, list[str]]] = [
    (
        "missing version",
        "organizations: []\n",
        ["m.yaml:1:1: missing required field 'version'"],
    ),
    (
        "wrong version",
        "version: 2\n",
        ["m.yaml:1:10: 'version' must be 1"],
    ),
    (
        "top level is a list",
        "- version: 1\n",
        ["m.yaml:1:1: the top level must be a mapping (version: 1, ...), not a list"],
    ),
    (
        "empty file",
        "# nothing but a comment\n",
        ["m.yaml:1:1: no YAML document: a manifest is a mapping starting with version: 1"],
    ),
    (
        "syntax error",
        "version: 1\norganizations: [\n  name: x\n",
        ["m.yaml:4:1: YAML syntax error: while parsing a flow sequence, did not find expected ',' or ']'"],
    ),
    (
        "two documents",
        "version: 1\n---\nversion: 1\n",
        ["m.yaml:2:1: YAML syntax error: expected a single document in the stream, but found another document"],
    ),
    (
        "unknown top-level field",
        "version: 1\norganisations: []\n",
        ["m.yaml:2:1: unknown field 'organisations'; did you mean 'organizations'?"],
    ),
    (
        "unknown webhook field",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        evnts: [key.create]\n",
        ["m.yaml:9:9: organizations[0].webhooks[0]: unknown field 'evnts'; did you mean 'events'?"],
    ),
    (
        "unknown provider",
        ORG.format(provider="ingat") + "        url: https://h.example/x\n",
        [
            "m.yaml:4:15: organizations[0]: 'provider' must be one of the installed providers: ingate, infraaudit, "
            "keeptrusts, immuta, encrata; did you mean 'ingate'?"
        ],
    ),
    (
        "missing webhook url",
        ORG.format(provider="ingate"),
        ["m.yaml:7:9: organizations[0].webhooks[0]: missing required field 'url'"],
    ),
    (
        "url not http(s)",
        ORG.format(provider="ingate") + "        url: ftp://h.example/x\n",
        ["m.yaml:8:14: organizations[0].webhooks[0]: 'url' must be an http:// or https:// URL"],
    ),
    (
        "bad organization name",
        "version: 1\norganizations:\n  - name: acme corp\n    provider: ingate\n    token: ${env:TOKEN}\n",
        [
            "m.yaml:3:11: organizations[0]: 'name' must be 1-63 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        ],
    ),
    (
        "reserved webhook name",
        ORG.replace("name: hook", "name: _index").format(provider="ingate") + "        url: https://h.example/x\n",
        [
            "m.yaml:7:15: organizations[0].webhooks[0]: 'name' is reserved: names starting with '_' are "
            "kept for the tool's own records"
        ],
    ),
    (
        "active is not a boolean",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        active: 'true'\n",
        ["m.yaml:9:17: organizations[0].webhooks[0]: 'active' must be true or false"],
    ),
    (
        "events is not a list",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        events: key.create\n",
        ["m.yaml:9:17: organizations[0].webhooks[0]: 'events' must be a list"],
    ),
    (
        "event is not text",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        events: [key.create, 3]\n",
        ["m.yaml:9:30: organizations[0].webhooks[0].events[1]: must be text"],
    ),
    (
        "yes as a boolean",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        protect: yes\n",
        [
            "m.yaml:9:18: organizations[0].webhooks[0].protect: 'yes' is a YAML 1.1 boolean: write true or "
            'false, or quote it ("yes") for text'
        ],
    ),
    (
        "duplicate key",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        url: https://h.example/y\n",
        ["m.yaml:9:9: organizations[0].webhooks[0]: duplicate key 'url': already defined at m.yaml:8:9"],
    ),
    (
        "literal token",
        "version: 1\norganizations:\n  - name: acme\n    provider: ingate\n    token: ghp_s3cr3t\n",
        ["m.yaml:5:12: organizations[0]: 'token' must be a reference such as ${env:NAME}, never a literal secret"],
    ),
    (
        "literal vault token",
        "version: 1\nsecret_stores:\n  v:\n    type: vault\n    address: https://vault.example\n    token: s.abcdef\n",
        ["m.yaml:6:12: secret_stores.v: 'token' must be a reference such as ${env:NAME}, never a literal secret"],
    ),
    (
        "vault store without address",
        "version: 1\nsecret_stores:\n  v:\n    type: vault\n    token: ${env:VAULT_TOKEN}\n",
        ["m.yaml:4:5: secret_stores.v: missing required field 'address'"],
    ),
    (
        "keyring store with a vault field",
        "version: 1\nsecret_stores:\n  k:\n    type: keyring\n    mount: secret\n",
        ["m.yaml:5:12: secret_stores.k: 'mount' does not apply to a keyring store"],
    ),
    (
        "unknown store type",
        "version: 1\nsecret_stores:\n  k:\n    type: file\n",
        ["m.yaml:4:11: secret_stores.k: 'type' must be one of the installed store types: keyring, vault"],
    ),
    (
        "undefined secret store",
        "version: 1\nsecret_stores:\n  k: {type: keyring}\norganizations:\n  - name: acme\n    provider: ingate\n"
        "    token: ${env:TOKEN}\n    secret_store: vault\n",
        ["m.yaml:8:19: organizations[0]: 'secret_store' names an undefined store 'vault' (defined: k)"],
    ),
    (
        "several stores, none chosen",
        "version: 1\nsecret_stores:\n  a: {type: keyring}\n  b: {type: keyring, service: other}\n"
        "organizations:\n  - name: acme\n    provider: ingate\n    token: ${env:TOKEN}\n",
        ["m.yaml:6:5: organizations[0]: missing 'secret_store': several stores are defined (a, b); pick one"],
    ),
    (
        "keeptrusts without base_url",
        "version: 1\norganizations:\n  - name: kt\n    provider: keeptrusts\n    token: ${env:TOKEN}\n",
        [
            "m.yaml:3:5: organizations[0]: missing required field 'base_url': keeptrusts has no default "
            "(each tenant has its own)"
        ],
    ),
    (
        "unmanaged value",
        "version: 1\norganizations:\n  - name: a\n    provider: ingate\n    token: ${env:TOKEN}\n    unmanaged: warn\n",
        ["m.yaml:6:16: organizations[0]: 'unmanaged' must be one of: report, ignore"],
    ),
    (
        "rotate_after in hours",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        rotate_after: 12h\n",
        [
            "m.yaml:9:23: organizations[0].webhooks[0]: 'rotate_after' must be a number of days or weeks, "
            "e.g. 90d or 12w"
        ],
    ),
    (
        "duplicate webhook name",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n      - name: hook\n"
        "        url: https://h.example/y\n",
        ["m.yaml:9:9: webhook 'hook' of organization 'acme' is already defined at m.yaml:7:9"],
    ),
    (
        "previously names another webhook",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n      - name: other\n"
        "        url: https://h.example/y\n        previously: [hook]\n",
        [
            "m.yaml:11:22: organizations[0].webhooks[1].previously[0]: 'hook' is the name of another webhook "
            "of this organization, at m.yaml:7:9"
        ],
    ),
    (
        "unsupported reference",
        ORG.format(provider="ingate") + "        url: https://h.example/x\n        description: ${TOKEN}\n",
        [
            "m.yaml:9:22: organizations[0].webhooks[0].description: unsupported reference '${TOKEN}': "
            "write ${env:NAME} (or ${var:NAME} in a webhook), or $${ for a literal ${"
        ],
    ),
    (
        "unsupported YAML tag",
        ORG.format(provider="ingate") + "        url: !secret https://h.example/x\n",
        ["m.yaml:8:14: organizations[0].webhooks[0].url: unsupported YAML tag '!secret'"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "m.yaml", text)
    assert problems(["m.yaml"]) == expected


def test_there_are_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20
