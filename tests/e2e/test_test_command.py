"""`reconciler test PATH... ORG/WEBHOOK`: each provider's test endpoint; Ingate has none; a failing
receiver is exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.world import World

EVENTS = {"infraaudit": ["ping"], "keeptrusts": ["event.blocked"], "encrata": ["credits.low"], "immuta": None}
TEST_PATHS = {
    "infraaudit": "/api/v1/webhooks/{id}/test",
    "keeptrusts": "/v1/webhooks/{id}/test",
    "encrata": "/api/webhooks/test",
    "immuta": "/api/notification/webhook/test",
}


def applied(world: World, provider: str) -> Path:
    hook: dict[str, object] = {"name": "alerts", "url": f"https://hooks.acme.example/{provider}/alerts"}
    if EVENTS.get(provider):
        hook["events"] = EVENTS[provider]
    manifest = world.write([world.org("acme", provider, [hook])])
    assert world.run("apply", manifest, "--auto-approve").code == 0
    return manifest


@pytest.mark.parametrize("provider", sorted(TEST_PATHS))
def test_test_event_is_delivered(world: World, provider: str) -> None:
    manifest = applied(world, provider)
    (live,) = world.live(provider, "acme")
    world.sandbox.clear_requests()
    result = world.run("test", manifest, "acme/alerts")
    assert result.code == 0, result.text
    assert f"acme/alerts (id {live['id']}): test event delivered, HTTP 200" in result.out
    posts = [r.path for r in world.sandbox.requests if r.method == "POST"]
    assert [p.rsplit("/acme", 1)[-1].replace("/marketplace", "") for p in posts] == [
        TEST_PATHS[provider].format(id=live["id"])
    ]
    all_at_once = "the provider tests all of this org's webhooks at once" in result.out
    assert all_at_once == (provider == "immuta")


@pytest.mark.parametrize("provider", sorted(TEST_PATHS))
def test_failing_receiver_is_exit_1(world: World, provider: str) -> None:
    manifest = applied(world, provider)
    world.sandbox.fail_deliveries(f"/{provider}/alerts")
    result = world.run("test", manifest, "acme/alerts")
    assert result.code == 1, result.text
    assert "test event failed" in result.out


def test_ingate_has_no_test_endpoint(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [{"name": "a", "url": "https://hooks.acme.example/a"}])])
    assert world.run("apply", manifest, "--auto-approve").code == 0
    world.sandbox.clear_requests()
    result = world.run("test", manifest, "acme/a")
    assert result.code == 1
    assert "ingate has no test endpoint; nothing sent" in result.err
    assert {r.method for r in world.sandbox.requests} <= {"GET"}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope/alerts", "unknown organization 'nope'"),
        ("acme/nope", "declares no webhook 'nope'"),
        ("acme", "expected ORG/WEBHOOK"),
    ],
)
def test_bad_targets_are_clear_errors(world: World, target: str, message: str) -> None:
    manifest = applied(world, "keeptrusts")
    result = world.run("test", manifest, target)
    assert result.code == 1 and message in result.err


def test_webhook_not_applied_yet(world: World) -> None:
    manifest = world.write(
        [world.org("acme", "encrata", [{"name": "a", "url": "https://x.example/a", "events": ["credits.low"]}])]
    )
    result = world.run("test", manifest, "acme/a")
    assert result.code == 1 and "does not exist yet; run apply first" in result.err


def test_target_without_paths_is_a_usage_error(world: World) -> None:
    result = world.run("test", "acme/alerts")
    assert result.code == 1 and "usage: reconciler test PATH... ORG/WEBHOOK" in result.err
