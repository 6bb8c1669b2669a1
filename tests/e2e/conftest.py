from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox
from tests.e2e.world import TOKEN_ENV, World
from tests.fixtures.keyring_service import KeyringTestEnv


@pytest.fixture
def world(
    sandbox: Sandbox, keyring_store_env: KeyringTestEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv(TOKEN_ENV, "sandbox-token")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    w = World(sandbox, keyring_store_env, tmp_path)
    yield w
    w.assert_no_secret_leaked()
