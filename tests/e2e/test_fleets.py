"""Fleets against the sandbox (contract §2.1): sets used by dozens of orgs on all five providers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from tests.e2e.test_lifecycle import EVENTS, PROVIDERS
from tests.e2e.world import World

ORGS_PER_PROVIDER = 5


def fleet(world: World, core_path: str = "keys") -> Path:
    """25 orgs: each uses `core` (on every provider) and its provider's set, and has one webhook of its own."""
    sets: dict[str, list[dict[str, Any]]] = {
        "core": [{"name": "key-events", "url": f"https://hooks.acme.example/${{var:team}}/${{var:region}}/{core_path}"}]
    }
    orgs = []
    for provider in PROVIDERS:
        member: dict[str, Any] = {"name": "alerts", "url": f"https://hooks.acme.example/{provider}/${{var:region}}"}
        if EVENTS[provider]:
            member["events"] = EVENTS[provider]
        sets[f"{provider}-alerts"] = [member]
        for index in range(ORGS_PER_PROVIDER):
            own = [{"name": "own", "url": f"https://hooks.acme.example/own/{provider}/{index}"}]
            orgs.append(
                world.org(
                    f"{provider}-{index}",
                    provider,
                    own,
                    use=["core", f"{provider}-alerts"],
                    vars={"region": f"r{index}"},
                )
            )
    return world.write(orgs, defaults={"vars": {"team": "platform"}, "prune": True}, webhook_sets=sets)


def test_a_fleet_applies_the_sum_of_its_sets_and_own_webhooks_and_a_set_change_updates_each_org_in_place(
    world: World,
) -> None:
    path = fleet(world)
    count = len(PROVIDERS) * ORGS_PER_PROVIDER
    plan = world.run("plan", path)
    assert plan.code == 0, plan.text
    assert f"Plan: {3 * count} to create, 0 to update, 0 to delete." in plan.out
    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    ids = {}
    for provider in PROVIDERS:
        for index in range(ORGS_PER_PROVIDER):
            live = world.live(provider, f"{provider}-{index}")
            urls = sorted(hook["url"] for hook in live)
            assert urls == sorted(
                [
                    f"https://hooks.acme.example/platform/r{index}/keys",
                    f"https://hooks.acme.example/{provider}/r{index}",
                    f"https://hooks.acme.example/own/{provider}/{index}",
                ]
            )
            ids[provider, index] = sorted(hook["id"] for hook in live)
    assert "Plan: 0 to create, 0 to update, 0 to delete." in world.run("plan", path).out

    path = fleet(world, core_path="keys-v2")  # one change to the set
    plan = world.run("plan", path)
    assert f"Plan: 0 to create, {count} to update, 0 to delete." in plan.out, plan.text
    assert plan.out.count(" key-events (id ") == count
    assert all(" from set core" in line for line in plan.out.splitlines() if " key-events (id " in line)
    changes = [
        c for o in json.loads(world.run("plan", path, "--format", "json").out)["organizations"] for c in o["changes"]
    ]
    assert [c["webhook_set"] for c in changes] == ["core"] * count
    # Drift reports carry the set too, valid against their schema, and shards of them merge back.
    report = world.tmp / "drift.json"
    assert world.run("drift", path, "--shard", "0/1", "-o", report).code == 2
    schema = json.loads((Path(__file__).parents[2] / "schemas" / "drift.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(report.read_text()))
    assert world.run("merge-reports", report).code == 2
    markdown = world.run("plan", path, "--format", "markdown").out
    assert f"- `core/key-events`: url changed in {count} orgs" in markdown
    assert f"<details><summary>{count} organizations</summary>" in markdown
    assert world.run("apply", path, "--auto-approve").code == 0
    for provider in PROVIDERS:
        for index in range(ORGS_PER_PROVIDER):
            live = world.live(provider, f"{provider}-{index}")
            assert sorted(hook["id"] for hook in live) == ids[provider, index]  # updated in place
            assert f"https://hooks.acme.example/platform/r{index}/keys-v2" in {hook["url"] for hook in live}


def test_fleet_problems_fail_before_any_request(world: World) -> None:
    orgs = [world.org("acme-imm", "immuta", [], use=["core", "nope"])]
    sets = {"core": [{"name": "k", "url": "https://hooks.acme.example/${var:region}", "events": ["x"]}]}
    path = world.write(orgs, webhook_sets=sets)
    result = world.run("plan", path)
    assert result.code == 1
    assert "webhook_sets.core[0].url (organization 'acme-imm'): variable 'region' is not defined" in result.err
    assert "webhook_sets.core[0] (organization 'acme-imm'): immuta webhooks receive every event" in result.err
    assert "organizations[0].use: unknown webhook set 'nope' (organization 'acme-imm')" in result.err
    assert world.sandbox.requests == []


def _plan_json(world: World, path: Path) -> dict[str, Any]:
    result = world.run("plan", path, "--format", "json")
    assert result.code == 0, result.text
    plan: dict[str, Any] = json.loads(result.out)
    for key in ("paths", "manifest_digest", "masked_digest"):  # the files differ; what they declare does not
        plan.pop(key, None)
    for org in plan["organizations"]:  # a rendered file has no sets to name
        for change in org["changes"]:
            change.pop("webhook_set", None)
    return plan


def test_render_round_trips_to_the_same_plan_on_all_five_providers(world: World, monkeypatch: Any) -> None:
    monkeypatch.setenv("FLEET_REGION", "hidden-region")
    path = fleet(world)
    text = path.read_text().replace(
        "vars:\n    team: platform", "vars:\n    team: platform\n    tier: '${env:FLEET_REGION}'"
    )
    text = text.replace("/${var:region}/keys", "/${var:region}/${var:tier}/keys")
    path.write_text(text)
    rendered = world.run("render", path)
    assert rendered.code == 0, rendered.text
    assert "${var:" not in rendered.out and "webhook_sets" not in rendered.out and "defaults" not in rendered.out
    assert "${env:FLEET_REGION}" in rendered.out and "hidden-region" not in rendered.out
    assert "${env:SANDBOX_TOKEN}" in rendered.out
    flat = world.tmp / "rendered.yaml"
    flat.write_text(rendered.out)
    before = _plan_json(world, path)
    assert before == _plan_json(world, flat)
    assert sum(len(org["changes"]) for org in before["organizations"]) == 3 * len(PROVIDERS) * ORGS_PER_PROVIDER
    assert world.run("apply", flat, "--auto-approve").code == 0
    # Applied from the rendered file, the original has nothing to change.
    assert "Plan: 0 to create, 0 to update, 0 to delete." in world.run("plan", path).out
    assert "hidden-region" not in world.run("plan", path, "--format", "json").out


def test_org_patterns_and_exclusions_on_plan_apply_and_drift(world: World) -> None:
    path = fleet(world)

    def planned(*selection: str) -> list[str]:
        result = world.run("plan", path, "--format", "json", *selection)
        assert result.code == 0, result.text
        return [org["name"] for org in json.loads(result.out)["organizations"]]

    assert planned("--org", "ingate-*") == [f"ingate-{i}" for i in range(ORGS_PER_PROVIDER)]
    assert planned("--org", "ingate-*", "--org", "immuta-[01]") == [
        *(f"ingate-{i}" for i in range(ORGS_PER_PROVIDER)),
        "immuta-0",
        "immuta-1",
    ]
    everything_but = planned("--exclude-org", "*-[1-9]", "--exclude-org", "encrata-*")
    assert everything_but == [f"{p}-0" for p in PROVIDERS if p != "encrata"]
    assert planned("--org", "keeptrusts-?", "--exclude-org", "keeptrusts-0") == [
        f"keeptrusts-{i}" for i in range(1, ORGS_PER_PROVIDER)
    ]
    applied = world.run("apply", path, "--auto-approve", "--org", "infraaudit-*", "--exclude-org", "infraaudit-4")
    assert applied.code == 0, applied.text
    assert [len(world.live("infraaudit", f"infraaudit-{i}")) for i in range(ORGS_PER_PROVIDER)] == [3, 3, 3, 3, 0]
    assert world.live("ingate", "ingate-0") == []
    drift = world.run("drift", path, "--org", "infraaudit-*", "--exclude-org", "infraaudit-4")
    assert drift.code == 0, drift.text

    for selection in (["--org", "nope-*"], ["--org", "ingate-*", "--exclude-org", "Ingate-0"]):
        commands: list[list[str | Path]] = [["plan", path], ["apply", path, "--auto-approve"], ["drift", path]]
        for command in commands:
            failed = world.run(*command, *selection)
            assert failed.code == 1, failed.text
            assert f"no organization matches '{selection[-1]}'" in failed.err
    assert world.live("ingate", "ingate-0") == []
