from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox
from tests.e2e.world import TOKEN_ENV, VAULT_ADDR_ENV, VAULT_TOKEN_ENV, VaultView, World
from tests.fixtures.keyring_service import KeyringTestEnv
from tests.fixtures.vault_server import VaultServer


@pytest.fixture
def world(
    sandbox: Sandbox, keyring_store_env: KeyringTestEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv(TOKEN_ENV, "sandbox-token")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # where keyring stores' org locks live
    monkeypatch.setenv("NO_COLOR", "1")
    w = World(sandbox, keyring_store_env, tmp_path)
    yield w
    w.assert_no_secret_leaked()


@pytest.fixture
def vault(world: World, vault_server: VaultServer, monkeypatch: pytest.MonkeyPatch) -> VaultView:
    """The session's OpenBao as `team-vault`, under a path unique to the test; its token is leak-checked."""
    monkeypatch.setenv(VAULT_ADDR_ENV, vault_server.address)
    monkeypatch.setenv(VAULT_TOKEN_ENV, vault_server.root_token)
    world.watch.append(vault_server.root_token)
    return VaultView(vault_server, path=f"webhooks/t{uuid.uuid4().hex[:12]}")
