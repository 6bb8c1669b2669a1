"""Issue 3's walking skeleton, user's eye view: plan, apply, no-op, update in place, prune, unmanaged."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.e2e.world import World

PROVIDERS = ["ingate", "infraaudit", "keeptrusts", "immuta", "encrata"]
EVENTS = {
    "ingate": ["budget.warning", "budget.exceeded"],
    "infraaudit": ["drift.detected", "drift.resolved"],
    "keeptrusts": ["event.blocked", "event.allowed"],
    "immuta": None,
    "encrata": ["credits.low", "credits.exhausted"],
}


def hook(provider: str, name: str = "alerts", path: str = "a", events: list[str] | None = None) -> dict[str, object]:
    spec: dict[str, object] = {"name": name, "url": f"https://hooks.acme.example/{provider}/{path}"}
    chosen = events if events is not None else EVENTS[provider]
    if chosen:
        spec["events"] = chosen
    return spec


@pytest.mark.parametrize(
    ("provider", "variant"),
    [*((p, "reference") for p in PROVIDERS), ("infraaudit", "vendor"), ("encrata", "sdk")],
)
def test_full_lifecycle(world: World, provider: str, variant: str) -> None:
    """Reference shapes, and the vendors' own variants docs/providers.md lists (the adapters tolerate both)."""
    world.sandbox.set_variant(provider, variant)
    org = f"acme-{provider}"
    path = world.write([world.org(org, provider, [hook(provider)], prune=True)])

    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "Plan: 1 to create, 0 to update, 0 to delete." in plan.out

    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    (live,) = world.live(provider, org)
    secret = world.stored(org, "alerts")
    assert secret is not None and secret in world.sandbox.secrets()
    assert f"username={org}/alerts" in applied.out

    again = world.run("plan", path, "--detailed-exitcode")
    assert again.code == 0, again.text

    # An update in place keeps the id and the secret.
    changed = hook(provider, path="b", events=(EVENTS[provider] or [])[:1] or None)
    path = world.write([world.org(org, provider, [changed], prune=True)])
    updated = world.run("apply", path, "--auto-approve")
    assert updated.code == 0, updated.text
    (after,) = world.live(provider, org)
    assert after["id"] == live["id"]
    assert world.stored(org, "alerts") == secret
    assert world.run("plan", path, "--detailed-exitcode").code == 0

    # Removing it from the manifest under prune deletes it (every webhook: needs --allow-deletes).
    path = world.write([world.org(org, provider, [], prune=True)])
    refused = world.run("apply", path, "--auto-approve")
    assert refused.code == 3, refused.text
    assert world.live(provider, org)
    deleted = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert deleted.code == 0, deleted.text
    assert world.live(provider, org) == []
    assert world.stored(org, "alerts") is None


def test_unmanaged_is_reported_and_left_alone_without_prune(world: World) -> None:
    org = "acme"
    path = world.write([world.org(org, "ingate", [hook("ingate")])])
    assert world.run("apply", path, "--auto-approve").code == 0
    stranger = world.write([world.org(org, "ingate", [hook("ingate", name="stranger", path="z")])], name="other.yaml")
    assert world.run("apply", stranger, "--auto-approve").code == 0
    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 0, plan.text  # unmanaged is drift, not a change
    assert "1 unmanaged webhook(s), not deleted: prune is off" in plan.out
    assert len(world.live("ingate", org)) == 2
    drift = world.run("drift", path)
    assert drift.code == 2, drift.text


def test_secret_tool_sees_the_secret(world: World) -> None:
    if not shutil.which("secret-tool"):
        pytest.fail("secret-tool (libsecret-tools) is needed")
    path = world.write([world.org("acme", "infraaudit", [hook("infraaudit")])])
    assert world.run("apply", path, "--auto-approve").code == 0
    found = subprocess.run(
        ["secret-tool", "lookup", "service", world.service, "username", "acme/alerts"],
        env=dict(world.keyring.env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout == world.stored("acme", "alerts")
    meta = subprocess.run(
        ["secret-tool", "lookup", "service", world.service, "username", "acme/alerts#meta"],
        env=dict(world.keyring.env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"webhook_id"' in meta.stdout and '"provider": "infraaudit"' in meta.stdout


def test_apply_without_terminal_needs_auto_approve(world: World) -> None:
    path = world.write([world.org("acme", "ingate", [hook("ingate")])])
    result = world.run("apply", path)
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert world.live("ingate", "acme") == []
