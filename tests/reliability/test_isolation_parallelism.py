"""Orgs fail independently (exit 4 with both lists, exit 1 when nothing applied), are worked on in
parallel within --parallelism, and cost one list request each per plan — never one per webhook."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

from reconciler.sandbox import Faults, router, server
from tests.e2e.world import World
from tests.reliability.harness import Harness, OrgSpec, fast_retries


def org(name: str, provider: str, hooks: int = 2) -> OrgSpec:
    return OrgSpec(
        name,
        provider,
        False,
        tuple({"name": f"h{i}", "url": f"https://hooks.acme.example/{provider}/h{i}/v1"} for i in range(hooks)),
    )


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_retries(monkeypatch)


def test_revoked_token_fails_one_org_and_the_others_apply(world: World) -> None:
    harness = Harness(world, {})
    specs = [org("ok-ingate", "ingate"), org("revoked", "infraaudit"), org("ok-keeptrusts", "keeptrusts")]
    path = harness.write(specs)
    world.sandbox.revoke_token(os.environ[harness.tokens["revoked"]])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 4, result.text
    assert "+ ok-ingate/h0: created" in result.out and "+ ok-keeptrusts/h1: created" in result.out
    assert "error: revoked: could not read" in result.err and "token was rejected" in result.err
    assert len(world.live("ingate", "ok-ingate")) == 2 and len(world.live("keeptrusts", "ok-keeptrusts")) == 2


def test_a_5xx_storm_on_one_provider_leaves_the_others_applied(world: World) -> None:
    specs = [org("stormy", "ingate"), org("calm", "immuta")]
    path = Harness(world, {}).write(specs)
    assert world.run("plan", path).code == 0  # the accounts exist; now every Ingate write fails
    world.sandbox.set_faults(Faults(error_rate=1.0), provider="ingate")
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 4, result.text
    assert "+ calm/h0: created" in result.out
    assert "stormy" in result.text and "503" in result.text
    assert "Apply finished partly" in result.out or "could not read" in result.err


def test_nothing_applied_is_exit_1(world: World) -> None:
    harness = Harness(world, {})
    specs = [org("a", "ingate"), org("b", "encrata")]
    path = harness.write(specs)
    world.sandbox.set_faults(Faults(error_rate=1.0))
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1, result.text
    assert world.live("ingate", "a") == [] and world.live("encrata", "b") == []


class InFlight:
    """Counts requests the sandbox is serving at once (instrumentation around the real dispatcher)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def wrap(self, dispatch: Any) -> Any:
        def counted(*args: Any) -> Any:
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                return dispatch(*args)
            finally:
                with self.lock:
                    self.now -= 1

        return counted


def test_orgs_run_in_parallel_within_the_limit_and_list_once_each(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = [org(f"org{i:02d}", ("ingate", "infraaudit", "keeptrusts")[i % 3], hooks=3) for i in range(12)]
    path = Harness(world, {}).write(specs)
    counter = InFlight()
    monkeypatch.setattr(server, "dispatch", counter.wrap(router.dispatch))
    world.sandbox.set_faults(Faults(latency_ms=40))

    world.sandbox.clear_requests()
    plan = world.run("plan", path, "--parallelism", "4")
    assert plan.code == 0, plan.text
    requests = world.sandbox.requests
    assert [r.method for r in requests] == ["GET"] * 12  # one list per org, nothing per webhook
    assert {r.account for r in requests} == {s.name for s in specs}
    assert 2 <= counter.peak <= 4

    counter.peak = 0
    world.sandbox.clear_requests()
    applied = world.run("apply", path, "--auto-approve", "--parallelism", "4")
    assert applied.code == 0, applied.text
    gets = [r for r in world.sandbox.requests if r.method == "GET"]
    posts = [r for r in world.sandbox.requests if r.method == "POST"]
    assert len(gets) == 24  # the plan and the verifying re-plan: one list per org each
    assert len(posts) == 36
    assert 2 <= counter.peak <= 4
