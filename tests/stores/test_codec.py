"""The record and index layouts, and open_store's choice of store (no I/O)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import IndexEntry, StoreConfig
from reconciler.core.secret import Secret
from reconciler.plugins import open_store
from reconciler.stores.codec import index_fields, index_from_fields, record_fields, record_from_fields
from reconciler.stores.keyring import KeyringStore
from reconciler.stores.vault import VaultStore
from tests.stores.records import SECRET, record


def test_record_fields_leave_unset_optionals_out() -> None:
    assert record_fields(record()) == {
        "webhook_id": "wh_123",
        "provider": "ingate",
        "url": "https://hooks.acme.example/ingate/finance",
        "created_at": "2026-01-02T03:04:05Z",
    }


def test_record_fields_carry_rotation_and_protect_when_set() -> None:
    fields = record_fields(record(rotated_at="2026-02-01T00:00:00Z", protect=True))
    assert fields["rotated_at"] == "2026-02-01T00:00:00Z"
    assert fields["protect"] is True


def test_record_round_trips() -> None:
    original = record(rotated_at="2026-02-01T00:00:00Z", protect=True)
    assert record_from_fields(SECRET, record_fields(original)) == original


@pytest.mark.parametrize(
    "fields",
    [
        {"provider": "p", "url": "u", "created_at": "c"},
        {"webhook_id": 7, "provider": "p", "url": "u", "created_at": "c"},
        {"webhook_id": "w", "provider": "p", "url": "u", "created_at": "c", "protect": "yes"},
        {"webhook_id": "w", "provider": "p", "url": "u", "created_at": "c", "rotated_at": 1},
    ],
)
def test_malformed_record_is_refused_without_its_values(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError) as caught:
        record_from_fields(SECRET, fields)
    assert SECRET not in str(caught.value)


def test_index_layout_is_sorted_with_explicit_protect() -> None:
    index = {"b": IndexEntry("id-b", protect=True), "a": IndexEntry("id-a")}
    fields = index_fields(index)
    assert list(fields) == ["a", "b"]
    assert fields == {"a": {"webhook_id": "id-a", "protect": False}, "b": {"webhook_id": "id-b", "protect": True}}
    assert index_from_fields(fields) == index


def test_index_reads_bare_strings_and_missing_protect() -> None:
    assert index_from_fields(
        {"a": "id-a", "b": {"webhook_id": "id-b"}, "c": {"webhook_id": "id-c", "protect": None}}
    ) == {
        "a": IndexEntry("id-a"),
        "b": IndexEntry("id-b"),
        "c": IndexEntry("id-c"),
    }


@pytest.mark.parametrize(
    "data", [None, [], "x", {"a": 1}, {"a": ""}, {"a": {"protect": True}}, {"a": {"webhook_id": "i", "protect": 1}}]
)
def test_unexpected_index_is_unreadable(data: object) -> None:
    assert index_from_fields(data) is None


def test_open_store_picks_the_type() -> None:
    assert isinstance(open_store(StoreConfig(name="k", type="keyring")), KeyringStore)
    vault = StoreConfig(name="v", type="vault", address="http://127.0.0.1:1", token=Secret("t"))
    assert isinstance(open_store(vault), VaultStore)


def test_open_store_refuses_an_unknown_type() -> None:
    with pytest.raises(SecretStoreError, match="unknown type"):
        open_store(StoreConfig(name="x", type="nope"))


def test_vault_store_needs_address_and_token() -> None:
    with pytest.raises(SecretStoreError, match=r"'v'.*address.*token"):
        open_store(StoreConfig(name="v", type="vault"))


def test_importing_the_stores_package_loads_neither_hvac_nor_keyring() -> None:
    code = "import sys, reconciler.stores; print('hvac' in sys.modules, 'keyring' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
