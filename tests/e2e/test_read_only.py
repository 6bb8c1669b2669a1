"""Plans cannot write: validate, plan, drift and import send nothing but GET, proven by the sandbox's own
record of the requests it received, while creates, updates and deletes are pending on every provider."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.core.errors import ReadOnlyViolation
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.plugins import open_provider
from reconciler.sandbox.registry import SPECS
from tests.e2e.test_lifecycle import PROVIDERS, hook
from tests.e2e.world import TOKEN_ENV, World


def pending_changes(world: World) -> Path:
    """Every provider has a live `a` and `b`; the manifest now moves `a`, drops `b` (prune) and adds `c`."""
    first = [world.org(p, p, [hook(p, "a", "a"), hook(p, "b", "b")]) for p in PROVIDERS]
    assert world.run("apply", world.write(first), "--auto-approve").code == 0
    second = [world.org(p, p, [hook(p, "a", "moved"), hook(p, "c", "c")], prune=True) for p in PROVIDERS]
    return world.write(second)


def methods(world: World) -> set[str]:
    return {r.method for r in world.sandbox.requests}


def test_read_only_commands_send_only_gets(world: World) -> None:
    path = pending_changes(world)
    world.sandbox.clear_requests()

    assert world.run("validate", path).code == 0
    assert world.sandbox.requests == []  # validate never touches the network

    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "Plan: 5 to create, 5 to update, 5 to delete." in plan.out
    for fmt in ("json", "markdown"):
        assert world.run("plan", path, "--format", fmt, "-o", world.tmp / f"plan-{fmt}.json").code == 0
    assert world.run("plan", path, "--debug").code == 0
    drift = world.run("drift", path)
    assert drift.code == 2, drift.text
    assert world.run("drift", path, "--format", "json").code == 2
    for provider in PROVIDERS:
        base = world.sandbox.base_url(provider, account=provider)
        imported = world.run("import", "--provider", provider, "--base-url", base, "--token-env", TOKEN_ENV)
        assert imported.code == 0, imported.text

    seen = world.sandbox.requests
    assert {r.provider for r in seen} == set(PROVIDERS)
    assert methods(world) == {"GET"}, sorted({(r.method, r.path) for r in seen if r.method != "GET"})
    # ...and nothing changed: the same webhooks are live.
    assert all(sorted(h["url"][-1] for h in world.live(p, p)) == ["a", "b"] for p in PROVIDERS)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_read_only_client_refuses_writes_before_sending(world: World, provider: str) -> None:
    client = open_provider(
        provider, world.sandbox.base_url(provider, account="ro"), Secret("sandbox-token"), read_only=True
    )
    desired = DesiredWebhook("a", "https://hooks.acme.example/x")
    live = LiveWebhook("w1", "https://hooks.acme.example/x")
    facts = SPECS[provider].facts  # which calls the API has, by the emulator's copy of its facts
    writes: list[Callable[[], object]] = [
        lambda: client.create(desired, Secret.generate()),
        lambda: client.update(live, desired),
        lambda: client.delete("w1"),
    ]
    if facts.rotates_in_place:
        writes.append(lambda: client.rotate(live, Secret.generate()))
    if facts.test == "webhook":  # Immuta's test call reads the webhook first (a GET), then posts
        writes.append(lambda: client.test("w1"))
    for write in writes:
        with pytest.raises(ReadOnlyViolation):
            write()
    assert world.sandbox.requests == []
