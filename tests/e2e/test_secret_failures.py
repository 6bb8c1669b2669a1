"""A secret is never lost: stores that fail mid-run, the recovery file, preflight refusals, secret drift.

The faults are real (a stopped daemon or server, a revoked token, a read-only API token); only their moment
is chosen by a hook that runs right after the real create call returned.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
import secretstorage
from keyring.backend import KeyringBackend
from keyring.backends import SecretService

from reconciler.core.model import SecretRecord
from reconciler.core.secret import Secret
from reconciler.devtools.keyring_session import KeyringSession, start_keyring_session
from reconciler.engine import recovery
from reconciler.providers.ingate import IngateProvider
from tests.e2e.test_lifecycle import hook
from tests.e2e.world import VAULT_ADDR_ENV, VAULT_TOKEN_ENV, VaultView, World
from tests.fixtures.keyring_service import MemoryKeyring
from tests.fixtures.vault_server import VaultServer, start_openbao

ORG = "acme"


def after_create(monkeypatch: pytest.MonkeyPatch, adapter: type[Any], fault: Callable[[], None]) -> None:
    """Strike `fault` right after the adapter's real create call returned (the webhook exists)."""
    original = adapter.create

    def create(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        fault()
        return result

    monkeypatch.setattr(adapter, "create", create)


def vault_org(world: World, provider: str = "ingate", name: str = ORG) -> dict[str, Any]:
    return world.org(name, provider, [hook(provider)], secret_store="team-vault")


def assert_deleted_again(world: World, result: Any, provider: str = "ingate") -> None:
    assert "was deleted again" in result.text
    assert "Apply failed, nothing changed" in result.out  # the create was undone: true to the letter
    assert world.live(provider, ORG) == []
    assert [r.method for r in world.sandbox.requests if r.method != "GET"] == ["POST", "DELETE"]


def lock_keyring() -> None:
    """Lock the default collection, as a screen lock or `secret-tool lock` would; nobody can unlock it here."""
    connection = secretstorage.dbus_init()
    try:
        secretstorage.get_default_collection(connection).lock()
    finally:
        connection.close()


@pytest.fixture
def private_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyringSession]:
    """A gnome-keyring of its own, to lock or stop mid-run without touching the one other tests share."""
    with start_keyring_session() as session:
        for name, value in session.env.items():
            monkeypatch.setenv(name, value)
        keyring.set_keyring(SecretService.Keyring())  # type: ignore[no-untyped-call]  # restored by the fixture
        yield session


def test_keyring_stopped_after_create(
    world: World, private_keyring: KeyringSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_create(monkeypatch, IngateProvider, private_keyring.stop)
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    assert f"could not write service={world.service} username={ORG}/alerts" in result.text
    assert_deleted_again(world, result)


LOCKED = "The keyring is locked: unlock it (e.g. the login keyring) and run again"


def test_locked_keyring_is_refused_before_any_create(world: World, private_keyring: KeyringSession) -> None:
    lock_keyring()
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    assert LOCKED in result.text
    assert [r for r in world.sandbox.requests if r.method != "GET"] == []


def test_keyring_locked_after_create(
    world: World, private_keyring: KeyringSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_create(monkeypatch, IngateProvider, lock_keyring)
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    assert LOCKED in result.text
    assert_deleted_again(world, result)


def test_plan_with_a_locked_keyring_fails_instead_of_guessing(world: World, private_keyring: KeyringSession) -> None:
    """Without the index a plan could adopt or prune the wrong webhooks: it stops, and says why."""
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    assert world.run("apply", path, "--auto-approve").code == 0
    lock_keyring()
    result = world.run("plan", path, "--detailed-exitcode")
    assert result.code == 1
    assert f"{ORG}: could not read" in result.err and LOCKED in result.err


def test_vault_token_revoked_after_create_while_another_org_applies(
    world: World, vault: VaultView, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = vault.server.least_privilege_token()
    monkeypatch.setenv(VAULT_TOKEN_ENV, token)
    world.watch.append(token)
    after_create(monkeypatch, IngateProvider, lambda: vault.server.client().auth.token.revoke(token))
    good = world.org("other", "infraaudit", [hook("infraaudit")])
    path = world.write([vault_org(world), good], secret_stores={**vault.stores(), "desktop": world_keyring(world)})

    result = world.run("apply", path, "--auto-approve")
    assert result.code == 4, result.text
    assert "permission denied (HTTP 403)" in result.err or "permission denied (HTTP 403)" in result.out
    assert world.live("ingate", ORG) == []
    assert "was deleted again" in result.text
    assert len(world.live("infraaudit", "other")) == 1
    assert world.stored("other", "alerts") is not None
    assert vault.read(ORG, "alerts") is None


def world_keyring(world: World) -> dict[str, str]:
    return {"type": "keyring", "service": world.service}


@pytest.fixture
def throwaway_vault(vault_server: VaultServer, monkeypatch: pytest.MonkeyPatch, world: World) -> Iterator[VaultView]:
    """An OpenBao of its own, to stop mid-run (the session one gates availability: skip, or fail in CI)."""
    server = start_openbao()
    monkeypatch.setenv(VAULT_ADDR_ENV, server.address)
    monkeypatch.setenv(VAULT_TOKEN_ENV, server.root_token)
    world.watch.append(server.root_token)
    try:
        yield VaultView(server, path="webhooks")
    finally:
        server.stop()


def test_openbao_stopped_after_create(
    world: World, throwaway_vault: VaultView, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_create(monkeypatch, IngateProvider, throwaway_vault.server.stop)
    path = world.write([vault_org(world)], secret_stores=throwaway_vault.stores())
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    # The address came from ${env:VAULT_ADDR}: masked like every env-sourced value (contract §5).
    assert "cannot connect to ********" in result.text
    assert throwaway_vault.server.address not in result.text
    assert_deleted_again(world, result)


@pytest.mark.parametrize("saved_plan", [False, True], ids=["apply", "apply-saved-plan"])
def test_when_the_delete_fails_too_the_secret_waits_in_a_recovery_file(
    world: World, vault: VaultView, monkeypatch: pytest.MonkeyPatch, saved_plan: bool
) -> None:
    token = vault.server.least_privilege_token()
    monkeypatch.setenv(VAULT_TOKEN_ENV, token)
    world.watch.append(token)

    def both_tokens_revoked() -> None:
        vault.server.client().auth.token.revoke(token)
        world.sandbox.revoke_token("sandbox-token")

    after_create(monkeypatch, IngateProvider, both_tokens_revoked)
    path = world.write([vault_org(world)], secret_stores=vault.stores())
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    recovery = Path(world.tmp, "state", "webhook-reconciler", "recovery", f"{ORG}__alerts.json")
    assert f"its secret was saved to {recovery} (mode 0600)" in result.text
    assert "Apply failed; a failed change may have taken effect" in result.out  # the webhook exists
    assert stat.S_IMODE(recovery.stat().st_mode) == 0o600
    assert stat.S_IMODE(recovery.parent.stat().st_mode) == 0o700
    (live,) = world.live("ingate", ORG)
    assert json.loads(recovery.read_text())["secret"] == world.current_secret("ingate", ORG, live["id"])

    # Once the store and the API work again, the next apply stores the secret and removes the file.
    world.sandbox.add_token("sandbox-token", "admin")
    monkeypatch.setenv(VAULT_TOKEN_ENV, vault.server.root_token)
    if saved_plan:
        # A plan made before the secret was recovered still sees the interrupted create (a replace). Applying
        # it stores the recovered secret first; then the plan no longer matches the state, so it is refused.
        assert world.run("plan", path, "-o", world.tmp / "plan.json").code == 0
        again = world.run("apply", "--plan", world.tmp / "plan.json")
        assert again.code == 3, again.text
        assert "stale plan" in again.err
    else:
        again = world.run("apply", path, "--auto-approve")
        assert again.code == 0, again.text
    assert "recovered secret stored in vault" in again.out
    assert not recovery.exists()
    record = vault.read(ORG, "alerts")
    assert record is not None and record["secret"] == world.current_secret("ingate", ORG, live["id"])
    assert record["webhook_id"] == live["id"]
    assert world.live("ingate", ORG) == [live]  # adopted, not created twice
    assert world.run("drift", path).code == 0


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt's plaintext file backend (not installed here): refused by its name."""


@pytest.mark.parametrize(
    ("backend", "why"),
    [
        (keyring.backends.null.Keyring, "discards every secret; refusing to store secrets there"),
        (keyring.backends.fail.Keyring, "set PYTHON_KEYRING_BACKEND to a backend that encrypts its secrets"),
        (PlaintextKeyring, "not encrypted; refusing to store secrets there"),
    ],
)
def test_preflight_refuses_unsafe_keyrings_before_any_create(
    world: World, backend: Callable[[], KeyringBackend], why: str
) -> None:
    keyring.set_keyring(backend())  # restored by the fixture
    path = world.write([world.org(ORG, "infraaudit", [hook("infraaudit")])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    assert why in result.text
    assert [r for r in world.sandbox.requests if r.method != "GET"] == []
    assert world.live("infraaudit", ORG) == []


def drift_secrets(world: World, path: Path) -> tuple[int, dict[str, str]]:
    result = world.run("drift", path, "--format", "json")
    (org,) = json.loads(result.out)["organizations"]
    return result.code, {w["name"]: w["secret"] for w in org["webhooks"]}


def test_drift_reports_missing_stale_and_unknown_secrets(world: World) -> None:
    hooks = [hook("infraaudit", name=n, path=n) for n in ("kept", "lost", "moved")]
    path = world.write([world.org(ORG, "infraaudit", hooks)])
    assert world.run("apply", path, "--auto-approve").code == 0
    assert drift_secrets(world, path) == (0, {"kept": "stored", "lost": "stored", "moved": "stored"})

    keyring.delete_password(world.service, f"{ORG}/lost")  # out of band: the secret is gone
    meta_name = f"{ORG}/moved#meta"
    meta = json.loads(keyring.get_password(world.service, meta_name) or "{}")
    keyring.set_password(world.service, meta_name, json.dumps({**meta, "webhook_id": "wh_someone_else"}))
    code, secrets = drift_secrets(world, path)
    assert code == 2
    assert secrets == {"kept": "stored", "lost": "missing", "moved": "stale"}
    text = world.run("drift", path)
    assert "lost (id " in text.out and "secret missing" in text.out and "secret stale" in text.out


def test_drift_reports_an_adopted_webhook_as_missing_its_secret(world: World) -> None:
    # Made outside the tool (say, in the vendor's console): adopted by its label, its secret never seen.
    base = world.sandbox.base_url("infraaudit", account=ORG)
    made = httpx.post(
        f"{base}/api/v1/webhooks",
        json={"name": "alerts", **{k: v for k, v in hook("infraaudit").items() if k != "name"}},
        headers={"Authorization": "Bearer sandbox-token"},
    )
    assert made.status_code == 201
    path = world.write([world.org(ORG, "infraaudit", [hook("infraaudit")])])
    code, secrets = drift_secrets(world, path)
    assert (code, secrets) == (2, {"alerts": "missing"})  # contract §4: a secret is missing
    assert f"secret missing (`reconciler rotate PATH... {ORG}/alerts` stores a new one)" in world.run("drift", path).out
    assert world.run("rotate", path, f"{ORG}/alerts").code == 0
    assert drift_secrets(world, path) == (0, {"alerts": "stored"})


def test_a_recovered_secret_never_overwrites_a_newer_one(world: World) -> None:
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    assert world.run("apply", path, "--auto-approve").code == 0
    newer = world.stored(ORG, "alerts")
    older = SecretRecord(Secret(f"whsec_{'0' * 32}"), "gone-id", "ingate", "https://x.example", "2020-01-01T00:00:00Z")
    kept = recovery.keep(ORG, "alerts", older)

    result = world.run("apply", path, "--auto-approve")
    assert result.code == 0, result.text
    assert f"a newer secret is stored; the recovered one stays in {kept}" in result.out
    assert kept.exists() and world.stored(ORG, "alerts") == newer


def test_a_create_whose_follow_up_update_fails_says_the_webhook_exists(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingate ignores `active: false` on create, so a paused webhook is created, its secret stored, then paused
    with an update. When that update fails, the webhook exists: the report must not say nothing changed."""
    creates: list[None] = []

    def revoke_once() -> None:
        if not creates:
            world.sandbox.revoke_token("sandbox-token")
        creates.append(None)

    after_create(monkeypatch, IngateProvider, revoke_once)
    path = world.write([world.org(ORG, "ingate", [{**hook("ingate"), "active": False}])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1, result.text
    assert "Apply failed; a failed change may have taken effect (a re-run converges)" in result.out
    (live,) = world.live("ingate", ORG)
    assert world.stored(ORG, "alerts") == world.current_secret("ingate", ORG, live["id"])
    world.sandbox.add_token("sandbox-token", "admin")
    assert world.run("apply", path, "--auto-approve").code == 0
    assert [h["active"] for h in world.live("ingate", ORG)] == [False]
