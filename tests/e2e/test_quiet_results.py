"""Issue 19: `--quiet` keeps each command's one-line result, and that line never hides a failure, drift or a
delete that apply will refuse (contract §4)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_lifecycle import hook
from tests.e2e.world import World


@pytest.fixture
def locked_token(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """A token env var whose token the sandbox does not know: every read answers 401."""
    monkeypatch.setenv("LOCKED_TOKEN", "locked-token-7c1e")
    world.watch.append("locked-token-7c1e")
    return "${env:LOCKED_TOKEN}"


def test_quiet_drift_prints_its_result_at_exit_2_and_1(world: World, locked_token: str) -> None:
    path = world.write([world.org("a", "ingate", [hook("ingate")]), world.org("b", "infraaudit", [hook("infraaudit")])])
    assert world.run("apply", path, "--auto-approve", "-q").code == 0
    in_sync = world.run("-q", "drift", path)
    assert (in_sync.code, in_sync.out) == (0, "No drift: 2 organization(s) in sync.\n")

    (live,) = world.live("infraaudit", "b")
    world.sandbox.patch_webhook("infraaudit", live["id"], {"url": "https://hooks.acme.example/moved"}, account="b")
    drifted = world.run("-q", "drift", path)
    assert (drifted.code, drifted.out) == (2, "Drift: 1 of 2 organization(s) differ from the manifests.\n")

    unreadable = world.write(
        [
            world.org("a", "ingate", [hook("ingate")]),
            world.org("b", "infraaudit", [hook("infraaudit")]),
            world.org("c", "ingate", [hook("ingate")], token=locked_token),
        ]
    )
    failed = world.run("drift", unreadable, "--quiet")
    assert failed.code == 1
    assert failed.out == (
        "Drift: 1 of 2 organization(s) differ from the manifests. Could not check 1 organization(s): c.\n"
    )
    assert "error: c: could not read:" in failed.err


def test_quiet_plan_says_which_orgs_could_not_be_planned(world: World, locked_token: str) -> None:
    path = world.write([world.org("locked", "ingate", [hook("ingate")], token=locked_token)])
    quiet = world.run("plan", path, "-q")
    assert quiet.code == 1
    assert quiet.out == "Plan: 0 to create, 0 to update, 0 to delete. 1 organization(s) could not be planned: locked.\n"
    loud = world.run("plan", path)
    assert loud.out.splitlines()[-1] == quiet.out.strip()  # the same result line closes the full plan


def test_apply_that_exits_4_never_calls_itself_complete(world: World, locked_token: str) -> None:
    path = world.write(
        [
            world.org("good", "ingate", [hook("ingate")]),
            world.org("locked", "ingate", [hook("ingate")], token=locked_token),
        ]
    )
    for flags in ((), ("-q",)):
        result = world.run("apply", path, "--auto-approve", *flags)
        assert result.code in (4, 1), result.text
        last = result.out.splitlines()[-1]
        assert "complete" not in result.out.lower()
        assert "1 organization(s) could not be planned (locked)" in last
        if result.code == 4:
            assert last.startswith("Apply finished partly: 1 created, 0 updated, 0 deleted;")
    assert len(world.live("ingate", "good")) == 1

    nothing = world.write([world.org("locked", "ingate", [hook("ingate")], token=locked_token)])
    failed = world.run("apply", nothing, "--auto-approve", "-q")
    assert failed.code == 1
    assert failed.out == "Apply failed, nothing changed: 1 organization(s) could not be planned (locked).\n"


def test_plan_shows_the_deletes_apply_will_refuse(world: World) -> None:
    hooks = [hook("ingate", f"h{i}", f"p{i}") for i in range(4)]
    guarded = {**hook("infraaudit", "guarded", "g"), "protect": True}
    kept = hook("infraaudit", "kept", "k")
    before = [
        world.org("mass", "ingate", hooks, prune=True),
        world.org("guard", "infraaudit", [kept, guarded], prune=True),
    ]
    assert world.run("apply", world.write(before), "--auto-approve", "-q").code == 0
    after = world.write(
        [world.org("mass", "ingate", hooks[3:], prune=True), world.org("guard", "infraaudit", [kept], prune=True)]
    )

    plan = world.run("plan", after)
    assert plan.code == 0, plan.text
    for name in ("h0", "h1", "h2"):
        assert any(
            line.startswith(f"  - {name} (id ") and line.endswith("[apply refuses it without --allow-deletes]")
            for line in plan.out.splitlines()
        ), plan.out
    assert any(
        line.startswith("  - guarded (id ") and line.endswith("[protected: apply refuses to delete it]")
        for line in plan.out.splitlines()
    ), plan.out
    result = (
        "Plan: 0 to create, 0 to update, 4 to delete. Apply will refuse this plan (exit 3): mass deletes 3 of 4 live "
        "webhooks (more than 25%); guard deletes protected webhooks; --allow-deletes lifts a mass delete, never a "
        "protected webhook."
    )
    assert plan.out.splitlines()[-1] == result
    assert world.run("plan", after, "-q").out == result + "\n"
    markdown = world.run("plan", after, "--format", "markdown").out
    assert "> **Apply will refuse this plan (exit 3):** `mass` deletes 3 of 4 live webhooks" in markdown
    assert "[protected: apply refuses to delete it]" in markdown

    refused = world.run("apply", after, "--auto-approve")
    assert refused.code == 3 and "nothing changed" in refused.err  # what the plan said
    assert refused.out.splitlines()[-1] == "Apply refused (unsafe plan, exit 3); nothing changed."
    quiet = world.run("apply", after, "--auto-approve", "-q")
    assert (quiet.code, quiet.out) == (3, "Apply refused (unsafe plan, exit 3); nothing changed.\n")
    assert "mass: the plan deletes 3 of 4 live webhooks" in quiet.err  # the reasons, on stderr
    assert json.loads(world.run("plan", after, "--format", "json").out)["summary"]["delete"] == 4


def test_plan_warns_of_a_description_the_provider_cannot_store_except_under_quiet(world: World) -> None:
    described = {**hook("ingate"), "description": "Finance alerts"}
    path = world.write([world.org("acme", "ingate", [described])])
    warning = "warning: organizations[0]: 'description' of webhook(s) alerts stays in the manifest only: ingate"
    loud = world.run("plan", path)
    assert loud.code == 0 and loud.err.count(warning) == 1, loud.err
    quiet = world.run("plan", path, "-q")
    assert (quiet.code, quiet.err) == (0, "")
    assert world.run("apply", path, "--auto-approve", "-q").code == 0
    (live,) = world.live("ingate", "acme")
    assert "description" not in live  # never sent


def test_quiet_apply_of_a_stale_plan_says_it_was_refused(world: World) -> None:
    path = world.write([world.org("acme", "ingate", [hook("ingate")])])
    saved = str(world.tmp / "acme.plan")
    assert world.run("plan", path, "-o", saved, "-q").code == 0
    world.write([world.org("acme", "ingate", [hook("ingate", "other", "o")])])  # the manifest moved on
    stale = world.run("apply", "--plan", saved, "-q")
    assert (stale.code, stale.out) == (3, "Apply refused (stale plan, exit 3); nothing changed.\n")
    assert "stale plan: the manifests changed since it was made" in stale.err
    assert world.live("ingate", "acme") == []
