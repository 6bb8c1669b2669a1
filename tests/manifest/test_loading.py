"""Loading: files and directories, merging, interpolation, reporting everything at once."""

from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from yaml.nodes import MappingNode, SequenceNode

from reconciler.manifest import MANIFEST_SCHEMA_PATH, load_manifests
from reconciler.manifest.yamlload import _Loader
from tests.manifest.util import ENV, problems, write

ACME = """
version: 1
organizations:
  - name: acme
    provider: ingate
    token: ${env:TOKEN}
"""


def test_every_problem_of_every_file_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.yaml", "version: 1\norganizations:\n  - name: a\n    provider: nope\n    token: ${env:TOKEN}\n")
    write(tmp_path, "b.yaml", "organizations: []\nextra: 1\n")
    assert problems(["a.yaml", "b.yaml", "missing.yaml"]) == [
        "a.yaml:4:15: organizations[0]: 'provider' must be one of the installed providers: "
        "ingate, infraaudit, keeptrusts, immuta, encrata",
        "b.yaml:1:1: missing required field 'version'",
        "b.yaml:2:1: unknown field 'extra'",
        "missing.yaml:1:1: no such file or directory",
    ]


def test_duplicate_organization_across_files_names_the_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.yaml", ACME)
    write(tmp_path, "b.yaml", "# the same organization again\n" + ACME.lstrip())
    assert problems(["a.yaml", "b.yaml"]) == ["b.yaml:4:5: organization 'acme' is already defined at a.yaml:3:5"]


def test_policy_and_stores_defined_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "a.yaml", "version: 1\npolicy: {allow_http: true}\nsecret_stores:\n  k: {type: keyring}\n")
    write(tmp_path, "b.yaml", "version: 1\nsecret_stores:\n  k: {type: keyring}\npolicy: {}\n")
    assert problems(["a.yaml", "b.yaml"]) == [
        "b.yaml:3:3: secret store 'k' is already defined at a.yaml:4:3",
        "b.yaml:4:1: policy is already defined at a.yaml:2:1",
    ]


def test_directory_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "m/b.yaml", ACME.replace("acme", "bravo"))
    write(tmp_path, "m/a/z.yml", ACME.replace("acme", "alpha"))
    write(tmp_path, "m/c.yaml", "version: 1\nsecret_stores:\n  k: {type: keyring}\n")
    write(tmp_path, "m/notes.txt", "not a manifest")
    write(tmp_path, "m/.hidden/x.yaml", "not: [valid")
    manifest = load_manifests([str(tmp_path / "m")], ENV)
    assert manifest.files == tuple(str(tmp_path / "m" / name) for name in ("a/z.yml", "b.yaml", "c.yaml"))
    assert [org.name for org in manifest.organizations] == ["alpha", "bravo"]
    # The store is defined in a later file than the orgs using it: still the only one, so theirs.
    assert [org.secret_store for org in manifest.organizations] == ["k", "k"]
    assert manifest.paths == (str(tmp_path / "m"),)


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    empty = str(tmp_path / "empty")
    assert problems([empty]) == [f"{empty}:1:1: no *.yaml or *.yml files in this directory"]


def test_digest_depends_on_content_not_place(tmp_path: Path) -> None:
    first = write(tmp_path, "one/acme.yaml", ACME)
    shutil.copytree(tmp_path / "one", tmp_path / "clone")
    digest = load_manifests([first], ENV).digest
    assert load_manifests([str(tmp_path / "clone")], ENV).digest == digest
    data = Path(first).read_bytes()
    assert digest == hashlib.sha256(hashlib.sha256(data).digest()).hexdigest()
    write(tmp_path, "one/acme.yaml", ACME + "# a comment changes the bytes\n")
    assert load_manifests([first], ENV).digest != digest


def test_env_interpolation_and_literal_dollar(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        organizations:
          - name: acme
            provider: ingate
            base_url: ${env:BASE}/
            token: ${env:TOKEN}
            webhooks:
              - name: hook
                url: https://hooks.example/${env:HOOK_PATH}?a=$$b
                description: costs $${price} for ${env:WHO}
              - name: plain
                url: https://hooks.example/plain
                description: plain
        """,
    )
    environ = {**ENV, "BASE": "https://api.example/prefix", "HOOK_PATH": "x/y", "WHO": "ops"}
    org = load_manifests([path], environ).org("acme")
    assert org.base_url == "https://api.example/prefix"
    assert org.token.reveal() == "tok-123"
    hook, plain = org.webhooks
    assert hook.url == "https://hooks.example/x/y?a=$$b"
    assert hook.description == "costs ${price} for ops"
    assert hook.masked == frozenset({"url", "description"})
    assert plain.masked == frozenset()


def test_missing_and_empty_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        organizations:
          - name: acme
            provider: ingate
            token: ${env:EMPTY}
            webhooks:
              - name: hook
                url: ${env:HOOK_URL}
        """,
    )
    assert problems(["m.yaml"], {"EMPTY": ""}) == [
        "m.yaml:5:12: organizations[0].token: environment variable 'EMPTY' is empty",
        "m.yaml:8:14: organizations[0].webhooks[0].url: environment variable 'HOOK_URL' is not set",
    ]


def test_environ_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "from-os")
    assert load_manifests([write(tmp_path, "m.yaml", ACME)]).org("acme").token.reveal() == "from-os"


def test_problems_never_show_a_token(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", ACME.replace("${env:TOKEN}", "ghp_TopSecretValue"))
    assert not any("TopSecret" in line for line in problems([path]))


@pytest.mark.parametrize("word", ["yes", "No", "ON", "off", "y", "N"])
def test_yaml11_booleans_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "m.yaml", f"version: 1\npolicy:\n  allow_http: {word}\n")
    assert problems(["m.yaml"]) == [
        f"m.yaml:3:15: policy.allow_http: '{word}' is a YAML 1.1 boolean: write true or false, "
        f'or quote it ("{word}") for text'
    ]


def test_quoted_yes_is_text(tmp_path: Path) -> None:
    hooks = '    webhooks:\n      - {name: h, url: "https://h.example/", description: "yes"}\n'
    path = write(tmp_path, "m.yaml", ACME + hooks)
    assert load_manifests([path], ENV).org("acme").webhooks[0].description == "yes"


def test_duplicate_keys_in_nested_and_flow_mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "m.yaml", "version: 1\nsecret_stores:\n  k: {type: keyring, type: vault}\nversion: 1\n")
    assert problems(["m.yaml"]) == [
        "m.yaml:3:22: secret_stores.k: duplicate key 'type': already defined at m.yaml:3:7",
        "m.yaml:4:1: duplicate key 'version': already defined at m.yaml:1:1",
    ]


def test_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        organizations:
          - name: acme
            provider: ingate
            token: ${env:TOKEN}
            webhooks:
              - &base {name: one, url: "https://h.example/1", events: [key.create], protect: true}
              - <<: *base
                name: two
                url: https://h.example/2
        """,
    )
    one, two = load_manifests([path], ENV).org("acme").webhooks
    assert (two.name, two.url, two.events, two.protect) == ("two", "https://h.example/2", one.events, True)


def test_references_through_anchors_and_merges_are_substituted_once_per_place(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        organizations:
          - name: acme
            provider: ingate
            token: ${env:TOKEN}
            webhooks:
              - &base {name: one, url: "${env:HOOK}/1", description: "$${literal} ${env:HOOK}"}
              - <<: *base
                name: two
                url: "https://h.example/$${kept}"
              - <<: *base
                name: three
        """,
    )
    env = {**ENV, "HOOK": "https://h.example/$${x}"}
    one, two, three = load_manifests([path], env).org("acme").webhooks
    # A value is substituted once: an env value holding `$${` or `${` stays as it is.
    assert one.url == three.url == "https://h.example/$${x}/1"
    assert one.description == two.description == three.description == "${literal} https://h.example/$${x}"
    assert two.url == "https://h.example/${kept}"  # the merged `${env:HOOK}/1` was overridden, never substituted
    assert (one.masked, two.masked) == (frozenset({"url", "description"}), frozenset({"description"}))


def test_implicit_keyring_store(tmp_path: Path) -> None:
    manifest = load_manifests([write(tmp_path, "m.yaml", ACME)], ENV)
    assert manifest.org("acme").secret_store == "default"
    store = manifest.store("default")
    assert (store.type, store.service) == ("keyring", "webhook-reconciler")


def test_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_bytes(b"version: 1\n# caf\xe9\n")
    assert problems(["m.yaml"]) == ["m.yaml:2:6: not valid UTF-8 text"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "version: 1\nx: &a [1, *a]\n",
            "m.yaml:2:4: nests deeper than 100 levels (an alias or merge key that includes itself?)",
        ),
        (
            "version: 1\n"
            + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 9)).replace("*l0", "x"),
            "m.yaml:6:5: aliases and merge keys expand to more than 200000 values (each use counts; the expansion "
            "that ran out starts at this anchor)",
        ),
    ],
    ids=["recursive alias", "alias bomb"],
)
def test_alias_expansion_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "m.yaml", text)
    assert problems(["m.yaml"]) == [problem]


def _tags(node: Any) -> list[tuple[str, str]]:
    """Every node's tag (with a scalar's text), depth first."""
    if isinstance(node, MappingNode):
        return [("{}", node.tag)] + [tag for pair in node.value for item in pair for tag in _tags(item)]
    if isinstance(node, SequenceNode):
        return [("[]", node.tag)] + [tag for item in node.value for tag in _tags(item)]
    return [(node.value, node.tag)]


def test_lean_resolver_tags_exactly_as_pyyaml() -> None:
    """yamlload's loader resolves tags its own (faster) way: it must give PyYAML's safe loader's tags."""
    plain = [
        "", "~", "null", "Null", "NULL", "n", "N", "no", "yes", "Yes", "on", "OFF", "true", "False", "tRUE",
        "0", "-1", "+7", "0x1F", "0o17", "017", "0b101", "1_000", "1:30", "190:20:30", "1.5", "-.5", ".inf",
        "-.Inf", ".NaN", "1e3", "1.5e3", "6.8523015e+5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<",
        "=", "https://x.example/a", "hook-001", "90d", "drift.detected", "1.2.3", ".", "+",
    ]
    text = "\n".join(f"k{i}: {value}" for i, value in enumerate(plain)) + "\n"
    text += "quoted: ['1', \"true\", 'null']\nexplicit: !!str 1\nlist: [1, a, {b: ~}]\n<<: {m: 1}\n"
    ours = _tags(yaml.compose(text, Loader=_Loader))
    assert ours == _tags(yaml.compose(text, Loader=yaml.SafeLoader))
    assert ("0x1F", "tag:yaml.org,2002:int") in ours and ("1", "tag:yaml.org,2002:str") in ours


def test_env_references_work_in_any_string_value(tmp_path: Path) -> None:
    """contract §2: in any string value. The published schema accepts the reference as written; the tool then
    holds the value itself to the field's rule."""
    text = """
        version: 1
        secret_stores:
          team-vault:
            type: ${env:STORE_TYPE}
            address: ${env:VAULT_ADDR}
            token: ${env:VAULT_TOKEN}
            mount: ${env:MOUNT}
            path: teams/${env:TEAM}
        organizations:
          - name: ${env:ORG}
            provider: ${env:PROVIDER}
            token: ${env:TOKEN}
            secret_store: team-vault
            unmanaged: ${env:UNMANAGED}
            webhooks:
              - name: ${env:HOOK}
                url: https://hooks.example/a
                rotate_after: ${env:ROTATE}
    """
    path = write(tmp_path, "m.yaml", text)
    environ = {
        **ENV,
        **{"STORE_TYPE": "vault", "MOUNT": "kv", "TEAM": "payments", "ORG": "acme-pay", "PROVIDER": "ingate"},
        **{"UNMANAGED": "ignore", "HOOK": "alerts", "ROTATE": "12w"},
    }
    manifest = load_manifests([path], environ)
    (store,) = manifest.stores
    assert (store.type, store.mount, store.path) == ("vault", "kv", "teams/payments")
    org = manifest.org("acme-pay")
    assert (org.provider, org.unmanaged, org.secret_store) == ("ingate", "ignore", "team-vault")
    assert (org.webhooks[0].name, org.webhooks[0].rotate_after_days) == ("alerts", 84)
    raw = yaml.safe_load(textwrap.dedent(text))
    schema = json.loads(MANIFEST_SCHEMA_PATH.read_text())
    assert list(Draft202012Validator(schema).iter_errors(raw)) == []  # as written, for editors and CI


def test_a_value_from_the_environment_is_held_to_its_fields_rule(tmp_path: Path) -> None:
    text = """
        version: 1
        organizations:
          - name: acme
            provider: ${env:PROVIDER}
            token: Bearer ${env:TOKEN}
    """
    path = write(tmp_path, "m.yaml", text)
    assert problems([path], {**ENV, "PROVIDER": "ingat"}) == [
        # No "did you mean": it would show what the value nearly is.
        f"{path}:4:15: organizations[0]: 'provider' (from ${{env:PROVIDER}}) must be one of the installed "
        "providers: ingate, infraaudit, keeptrusts, immuta, encrata",
        f"{path}:5:12: organizations[0]: 'token' must be a reference such as ${{env:NAME}}, never a literal secret",
    ]
