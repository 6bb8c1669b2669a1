"""Fixtures live in tests/fixtures/, one module per real component."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.core import redact

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.keyring_service",
    "tests.fixtures.vault_server",
    "tests.fixtures.hostile_server",
]


@pytest.fixture(autouse=True)
def _own_redactions() -> Iterator[None]:
    """Each test starts with only the redactions made before it ran: the registry lives as long as the
    process (one CLI run), and a test that loads `provider: ${env:P}` must not mask `ingate` in the next."""
    with redact._lock:
        before = set(redact._values)
    yield
    with redact._lock:
        redact._values.intersection_update(before)
