"""A Vault that answers like an attacker or a broken proxy (contract §7): its answers are bounded in size and
time like a provider's, and the store fails cleanly, naming neither the token nor a value."""

from __future__ import annotations

import time

import pytest

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import StoreConfig
from reconciler.core.secret import Secret
from reconciler.stores import vault_transport
from reconciler.stores.vault import VaultStore
from tests.fixtures.hostile_server import HostileServer, answer, endless, trickle

TOKEN = "hvs.hostile-test-token"
INDEX = "/v1/secret/data/webhooks/acme/_index"  # the default mount and path


def store(hostile: HostileServer) -> VaultStore:
    return VaultStore(StoreConfig(name="vault", type="vault", address=hostile.url, token=Secret(TOKEN)))


def test_an_endless_answer_is_cut_at_the_bound(hostile: HostileServer) -> None:
    hostile.on("GET", INDEX, endless())
    with pytest.raises(SecretStoreError) as caught:
        store(hostile).read_index("acme")
    message = str(caught.value)
    assert f"larger than {vault_transport.MAX_ANSWER_BYTES >> 20} MiB" in message
    assert TOKEN not in message


def test_a_trickled_answer_ends_at_the_deadline(hostile: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_transport, "ANSWER_DEADLINE", 1.0)
    hostile.on("GET", INDEX, trickle(0.05))
    start = time.monotonic()
    with pytest.raises(SecretStoreError) as caught:
        store(hostile).read_index("acme")
    assert time.monotonic() - start < 5
    assert "longer than 1 s" in str(caught.value)


def test_a_well_formed_answer_within_the_bounds_is_read(hostile: HostileServer) -> None:
    body = {"data": {"data": {"finance": {"webhook_id": "wh_1", "protect": False}}, "metadata": {"version": 3}}}
    hostile.on("GET", INDEX, answer(200, body))
    index = store(hostile).read_index("acme")
    assert index is not None and index["finance"].webhook_id == "wh_1"
