"""Fleets (contract §2.1): defaults, webhook sets, use, vars and ${var:NAME}, with every problem located."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from reconciler.manifest import load_manifests
from tests.manifest.util import ENV, problems, write

SETS = """
version: 1
defaults:
  prune: true
  unmanaged: ignore
  use: [core]
  vars: {team: platform, region: any}
webhook_sets:
  core:
    - name: key-events
      url: https://hooks.acme.example/${var:team}/${var:region}/keys
      events: [key.create]
  finance:
    - name: budget
      url: https://hooks.acme.example/finance/${var:region}
      events: [budget.warning]
"""


def org(name: str, extra: str = "", provider: str = "ingate") -> str:
    return f"  - name: {name}\n    provider: {provider}\n    token: ${{env:TOKEN}}\n{extra}"


def test_an_org_gets_its_own_webhooks_then_its_sets_members_with_variables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        SETS
        + "organizations:\n"
        + org(
            "acme-eu",
            "    vars: {region: eu}\n    use: [core, finance]\n    prune: false\n    webhooks:\n"
            "      - name: own\n        url: https://hooks.acme.example/${var:team}/own\n",
        )
        + org("acme-us"),
    )
    manifest = load_manifests([path], ENV)
    eu, us = manifest.organizations
    assert [(h.name, h.url) for h in eu.webhooks] == [
        ("own", "https://hooks.acme.example/platform/own"),
        ("key-events", "https://hooks.acme.example/platform/eu/keys"),
        ("budget", "https://hooks.acme.example/finance/eu"),
    ]
    assert (eu.prune, eu.unmanaged) == (False, "ignore")  # the org's own key wins; the default fills the rest
    assert [(h.name, h.url) for h in us.webhooks] == [("key-events", "https://hooks.acme.example/platform/any/keys")]
    assert us.prune is True
    # A member's location is where the member is written.
    assert str(eu.webhooks[1].location) == f"{path}:9:7"


def test_sets_and_defaults_may_live_in_other_files(tmp_path: Path) -> None:
    write(tmp_path, "a-fleet.yaml", SETS)
    write(tmp_path, "b-orgs.yaml", "version: 1\norganizations:\n" + org("acme-eu", "    vars: {region: eu}\n"))
    (eu,) = load_manifests([str(tmp_path)], ENV).organizations
    assert [h.url for h in eu.webhooks] == ["https://hooks.acme.example/platform/eu/keys"]


def test_a_variable_from_the_environment_stays_masked_and_dollar_dollar_stays_literal(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        SETS
        + "organizations:\n"
        + org(
            "acme-eu",
            "    vars: {region: '${env:SECRET_REGION}'}\n    webhooks:\n"
            "      - name: own\n        url: https://hooks.acme.example/$${var:team}\n",
        ),
    )
    (eu,) = load_manifests([path], {**ENV, "SECRET_REGION": "s3cr3t"}).organizations
    own, keys = eu.webhooks
    assert own.url == "https://hooks.acme.example/${var:team}" and own.masked == frozenset()
    assert keys.url == "https://hooks.acme.example/platform/s3cr3t/keys" and keys.masked == {"url"}


def test_fleet_problems_are_all_reported_at_once_where_they_are_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        """
        version: 1
        defaults:
          vars: {team: platform}
        webhook_sets:
          core:
            - name: key-events
              url: https://hooks.acme.example/${var:team}/${var:region}/keys
              events: [key.create]
          also:
            - name: key-events
              url: https://hooks.acme.example/other
          spare:
            - name: s
              url: https://hooks.acme.example/s
        organizations:
          - name: acme-eu
            provider: ingate
            token: ${env:TOKEN}
            use: [core, also, missing]
            vars: {region: eu}
          - name: acme-imm
            provider: immuta
            base_url: https://imm.example/marketplace
            token: ${env:TOKEN}
            vars: {region: x}
            use: [core]
          - name: acme-own
            provider: ingate
            token: ${env:TOKEN}
            webhooks:
              - name: key-events
                url: https://hooks.acme.example/own
            use: [core]
        """,
    )
    assert problems([path]) == [
        f"{path}:6:7: webhook_sets.core[0] (organization 'acme-own'): webhook 'key-events' of organization "
        f"'acme-own' is already defined at {path}:31:9",
        f"{path}:7:12: webhook_sets.core[0].url (organization 'acme-own'): variable 'region' is not defined: "
        "neither organization 'acme-own' nor defaults.vars sets it",
        f"{path}:8:15: webhook_sets.core[0] (organization 'acme-imm'): immuta webhooks receive every event; "
        "remove 'events'",
        f"{path}:10:7: webhook_sets.also[0] (organization 'acme-eu'): webhook 'key-events' of organization "
        f"'acme-eu' is already defined at {path}:6:7",
        f"{path}:19:23: organizations[0].use: unknown webhook set 'missing' (organization 'acme-eu'); "
        "defined sets: also, core, spare",
    ]


def test_an_unknown_event_in_a_set_is_reported_at_the_member_naming_the_org(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        "version: 1\nwebhook_sets:\n  core:\n    - name: k\n      url: https://h.example/k\n"
        "      events: [key.creat]\norganizations:\n" + org("acme", "    use: [core]\n"),
    )
    assert problems([path]) == [
        f"{path}:6:16: webhook_sets.core[0].events[0] (organization 'acme'): unknown ingate event 'key.creat'; "
        "did you mean 'key.create'?"
    ]


def test_an_unused_set_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", SETS + "organizations:\n" + org("acme"))
    manifest = load_manifests([path], ENV)
    assert [str(w) for w in manifest.warnings] == [
        f"{path}:12:3: webhook set 'finance' is not used by any organization"
    ]


def test_defaults_twice_and_a_set_twice_name_the_first(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SETS)
    b = write(
        tmp_path,
        "b.yaml",
        "version: 1\ndefaults:\n  prune: false\nwebhook_sets:\n  core: []\norganizations:\n" + org("acme"),
    )
    assert problems([str(tmp_path)]) == [
        f"{b}:2:1: defaults is already defined at {tmp_path / 'a.yaml'}:2:1",
        f"{b}:5:3: webhook set 'core' is already defined at {tmp_path / 'a.yaml'}:8:3",
    ]


def test_an_unknown_set_in_defaults_is_reported_once(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "version: 1\ndefaults:\n  use: [nope]\norganizations:\n" + org("a") + org("b"))
    assert problems([path]) == [f"{path}:3:9: defaults.use: unknown webhook set 'nope'; defined sets: none is defined"]


def test_a_typo_in_defaults_is_a_schema_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "version: 1\ndefaults:\n  prnue: true\norganizations:\n" + org("a"))
    assert problems([path]) == [f"{path}:3:3: defaults: unknown field 'prnue'; did you mean 'prune'?"]


def test_render_keeps_references_and_literals_as_written_and_refuses_a_bad_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(
        tmp_path,
        "good.yaml",
        SETS
        + "organizations:\n"
        + org("acme", "    webhooks:\n      - name: own\n        url: https://h.example/$${var:team}/${var:team}\n"),
    )
    assert main(["render", good]) == 0
    rendered = yaml.safe_load(capsys.readouterr().out)
    assert rendered == {
        "version": 1,
        "organizations": [
            {
                "name": "acme",
                "provider": "ingate",
                "token": "${env:TOKEN}",
                "prune": True,
                "unmanaged": "ignore",
                "webhooks": [
                    {"name": "own", "url": "https://h.example/$${var:team}/platform"},
                    {
                        "name": "key-events",
                        "url": "https://hooks.acme.example/platform/any/keys",
                        "events": ["key.create"],
                    },
                ],
            }
        ],
    }
    bad = write(tmp_path, "bad.yaml", "version: 1\norganizations:\n" + org("acme", "    use: [core]\n"))
    assert main(["render", bad]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:6:11: organizations[0].use: unknown webhook set 'core' (organization 'acme')" in err
