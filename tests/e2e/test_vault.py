"""The Vault store end to end on a real OpenBao: records, index, updates, deletes, narrow tokens, CAS mounts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.test_lifecycle import PROVIDERS, hook
from tests.e2e.world import VAULT_TOKEN_ENV, VaultView, World

ORG = "acme"


def vault_org(world: World, provider: str, webhooks: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return world.org(ORG, provider, webhooks, secret_store="team-vault", **options)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_apply_update_delete_keep_the_vault_record_true(world: World, vault: VaultView, provider: str) -> None:
    path = world.write([vault_org(world, provider, [hook(provider)], prune=True)], secret_stores=vault.stores())

    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    (live,) = world.live(provider, ORG)
    assert f"secret/data/{vault.path}/{ORG}/alerts" in applied.out
    record = vault.read(ORG, "alerts")
    assert record is not None
    assert set(record) == {"secret", "webhook_id", "provider", "url", "created_at"}
    assert record["secret"] in world.sandbox.secrets()
    assert record["secret"] == world.current_secret(provider, ORG, live["id"])
    assert (record["webhook_id"], record["provider"], record["url"]) == (live["id"], provider, hook(provider)["url"])
    assert record["created_at"].endswith("Z")
    assert vault.read(ORG, "_index") == {"alerts": {"webhook_id": live["id"], "protect": False}}
    assert world.run("plan", path, "--detailed-exitcode").code == 0

    # An update keeps the record (and the secret); its url follows the live webhook.
    moved = hook(provider, path="moved")
    path = world.write([vault_org(world, provider, [moved], prune=True)], secret_stores=vault.stores())
    updated = world.run("apply", path, "--auto-approve")
    assert updated.code == 0, updated.text
    after = vault.read(ORG, "alerts")
    assert after == {**record, "url": moved["url"]}

    # Removed from the manifest under prune: the webhook, its record and its index entry go.
    path = world.write([vault_org(world, provider, [], prune=True)], secret_stores=vault.stores())
    deleted = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert deleted.code == 0, deleted.text
    assert world.live(provider, ORG) == []
    assert vault.read(ORG, "alerts") is None
    assert vault.read(ORG, "_index") == {}


def test_a_least_privilege_token_is_enough(world: World, vault: VaultView, monkeypatch: pytest.MonkeyPatch) -> None:
    token = vault.server.least_privilege_token()
    monkeypatch.setenv(VAULT_TOKEN_ENV, token)
    world.watch.append(token)
    path = world.write([vault_org(world, "infraaudit", [hook("infraaudit")])], secret_stores=vault.stores())
    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    record = vault.read(ORG, "alerts")
    assert record is not None and record["secret"] in world.sandbox.secrets()
    drift = world.run("drift", path, "--format", "json")
    assert drift.code == 0, drift.text
    assert '"secret": "stored"' in drift.out


def test_a_cas_required_mount_works(world: World, vault: VaultView) -> None:
    mount = f"kv{uuid.uuid4().hex[:8]}"
    vault.server.enable_cas_required_mount(mount)
    cas = VaultView(vault.server, path="webhooks", mount=mount)
    path = world.write([vault_org(world, "immuta", [hook("immuta")], prune=True)], secret_stores=cas.stores())
    assert world.run("apply", path, "--auto-approve").code == 0
    (live,) = world.live("immuta", ORG)
    record = cas.read(ORG, "alerts")
    assert record is not None and record["secret"] == world.current_secret("immuta", ORG, live["id"])
    # A second write of the same record (the update path) must pass check-and-set too.
    path = world.write([vault_org(world, "immuta", [hook("immuta", path="b")], prune=True)], secret_stores=cas.stores())
    assert world.run("apply", path, "--auto-approve").code == 0
    assert cas.read(ORG, "alerts") == {**record, "url": hook("immuta", path="b")["url"]}
