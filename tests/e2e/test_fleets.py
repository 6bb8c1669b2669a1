"""Fleets against the sandbox (SPEC §2.1): sets used by dozens of orgs on all five providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
