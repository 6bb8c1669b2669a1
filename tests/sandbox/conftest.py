"""httpx clients for the sandbox: `client` sends its default token, `anon` sends none.

The clients live for the session: building one loads CA certificates (~0.1 s), which would dominate.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox import Sandbox

TOKEN = "sandbox-token"


@pytest.fixture(scope="session")
def _clients() -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5) as client,
        httpx.Client(timeout=5) as anon,
    ):
        yield client, anon


@pytest.fixture
def client(sandbox: Sandbox, _clients: tuple[httpx.Client, httpx.Client]) -> httpx.Client:
    return _clients[0]


@pytest.fixture
def anon(sandbox: Sandbox, _clients: tuple[httpx.Client, httpx.Client]) -> httpx.Client:
    return _clients[1]
