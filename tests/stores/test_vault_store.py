"""VaultStore against a real OpenBao dev server (KV v2, policies, CAS)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import hvac.exceptions
import pytest

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import DesiredWebhook, IndexEntry, Organization, SecretRecord, StoreConfig
from reconciler.core.secret import Secret
from reconciler.engine.reading import IndexLoad, load_index
from reconciler.stores.vault import VaultStore
from tests.fixtures.keyring_service import unavailable
from tests.fixtures.vault_server import VaultServer, start_openbao
from tests.stores.records import SECRET, record


def raw(server: VaultServer, config: StoreConfig, *parts: str) -> dict[str, Any]:
    """The latest data at `<path>/<parts>`, read with hvac directly (not through the store)."""
    path = "/".join((config.path, *parts))
    response = server.client().secrets.kv.v2.read_secret_version(
        path=path, mount_point=config.mount, raise_on_deleted_version=True
    )
    data: dict[str, Any] = response["data"]["data"]
    return data


def raw_write(server: VaultServer, config: StoreConfig, data: dict[str, Any], *parts: str) -> None:
    path = "/".join((config.path, *parts))
    server.client().secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=config.mount)


@pytest.fixture
def throwaway_server(vault_server: VaultServer) -> Iterator[VaultServer]:
    """A server of its own, to seal or stop (the session one gates availability: skip or fail in CI)."""
    server = start_openbao()
    try:
        yield server
    finally:
        server.stop()


def test_round_trip(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    store = VaultStore(vault_store_env)
    assert store.read("acme", "finance") is None
    store.write("acme", "finance", record())
    assert store.read("acme", "finance") == record()
    rotated = record("whsec_rotated", rotated_at="2026-03-01T00:00:00Z", protect=True)
    store.write("acme", "finance", rotated)
    assert store.read("acme", "finance") == rotated
    store.delete("acme", "finance")
    assert store.read("acme", "finance") is None


def test_delete_removes_every_version_and_the_metadata(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    store = VaultStore(vault_store_env)
    store.write("acme", "finance", record())
    store.write("acme", "finance", record("whsec_second"))
    store.delete("acme", "finance")
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_server.client().secrets.kv.v2.read_secret_metadata(
            path=f"{vault_store_env.path}/acme/finance", mount_point="secret"
        )
    store.delete("acme", "finance")  # deleting a missing record is fine
    store.write("acme", "finance", record())  # and the path can be written again from version 0


def test_soft_deleted_latest_version_reads_as_missing_and_can_be_overwritten(
    vault_server: VaultServer, vault_store_env: StoreConfig
) -> None:
    store = VaultStore(vault_store_env)
    store.write("acme", "finance", record())
    vault_server.client().secrets.kv.v2.delete_latest_version_of_secret(
        path=f"{vault_store_env.path}/acme/finance", mount_point="secret"
    )
    assert store.read("acme", "finance") is None
    store.write("acme", "finance", record())
    assert store.read("acme", "finance") == record()


def test_layout_read_raw(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    store = VaultStore(vault_store_env)
    store.write("acme", "finance", record())
    assert raw(vault_server, vault_store_env, "acme", "finance") == {
        "secret": SECRET,
        "webhook_id": "wh_123",
        "provider": "ingate",
        "url": "https://hooks.acme.example/ingate/finance",
        "created_at": "2026-01-02T03:04:05Z",
    }
    store.write("acme", "finance", record(rotated_at="2026-03-01T00:00:00Z", protect=True))
    data = raw(vault_server, vault_store_env, "acme", "finance")
    assert data["rotated_at"] == "2026-03-01T00:00:00Z"
    assert data["protect"] is True


def test_location(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    location = VaultStore(vault_store_env).location("acme", "finance")
    assert location == f"vault {vault_server.address} secret/data/{vault_store_env.path}/acme/finance"


def test_index_round_trip_and_layout(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    store = VaultStore(vault_store_env)
    assert store.read_index("acme") is None
    index = {"finance": IndexEntry("wh_1", protect=True), "audit": IndexEntry("wh_2")}
    store.write_index("acme", index)
    assert store.read_index("acme") == index
    assert raw(vault_server, vault_store_env, "acme", "_index") == {
        "audit": {"webhook_id": "wh_2", "protect": False},
        "finance": {"webhook_id": "wh_1", "protect": True},
    }
    store.write_index("acme", {})
    assert store.read_index("acme") == {}


def test_index_read_tolerates_bare_ids(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    raw_write(vault_server, vault_store_env, {"finance": "wh_1", "audit": {"webhook_id": "wh_2"}}, "acme", "_index")
    assert VaultStore(vault_store_env).read_index("acme") == {
        "finance": IndexEntry("wh_1"),
        "audit": IndexEntry("wh_2"),
    }


def test_unreadable_index_is_none(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    raw_write(vault_server, vault_store_env, {"finance": 42}, "acme", "_index")
    assert VaultStore(vault_store_env).read_index("acme") is None


def test_unreadable_record_fails_clearly_without_the_secret(
    vault_server: VaultServer, vault_store_env: StoreConfig
) -> None:
    raw_write(vault_server, vault_store_env, {"secret": SECRET, "webhook_id": "wh_1"}, "acme", "finance")
    with pytest.raises(SecretStoreError, match=r"acme/finance is unreadable.*'provider'") as caught:
        VaultStore(vault_store_env).read("acme", "finance")
    assert SECRET not in str(caught.value)


def test_preflight_passes_and_leaves_nothing(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    VaultStore(vault_store_env).preflight()
    with pytest.raises(hvac.exceptions.InvalidPath):
        vault_server.client().secrets.kv.v2.list_secrets(
            path=f"{vault_store_env.path}/_preflight", mount_point="secret"
        )


def test_cas_conflict_is_detected(
    vault_server: VaultServer, vault_store_env: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = VaultStore(vault_store_env)
    store.write("acme", "finance", record())
    # Another writer first: the version this store last saw is old, so it reads the current one.
    raw_write(vault_server, vault_store_env, {"secret": "whsec_earlier"}, "acme", "finance")
    read_version = store._version

    def another_run_writes_in_between(path: str, operation: str) -> int:
        version = read_version(path, operation)
        raw_write(vault_server, vault_store_env, {"secret": "whsec_other"}, "acme", "finance")
        return version

    monkeypatch.setattr(store, "_version", another_run_writes_in_between)
    with pytest.raises(SecretStoreError, match="another run changed the record") as caught:
        store.write("acme", "finance", record("whsec_mine"))
    assert "whsec_mine" not in str(caught.value)
    assert raw(vault_server, vault_store_env, "acme", "finance") == {"secret": "whsec_other"}


def test_a_write_reads_the_version_only_when_the_one_last_seen_is_old(
    vault_server: VaultServer, vault_store_env: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request per write where nobody else wrote (a new record, or one this store wrote or read last);
    a record another writer moved since is written on the version read then, as before."""
    store = VaultStore(vault_store_env)
    read_version = store._version
    reads: list[str] = []

    def counted(path: str, operation: str) -> int:
        reads.append(path)
        return read_version(path, operation)

    monkeypatch.setattr(store, "_version", counted)
    store.write("acme", "finance", record())
    store.write("acme", "finance", record("whsec_rotated"))
    store.write_index("acme", {"finance": IndexEntry("wh_123")})
    store.write_index("acme", {"finance": IndexEntry("wh_123", protect=True)})
    assert VaultStore(vault_store_env).read("acme", "finance") is not None
    store.delete("acme", "finance")
    store.write("acme", "finance", record())
    assert reads == []
    raw_write(vault_server, vault_store_env, {"secret": "whsec_other"}, "acme", "finance")
    store.write("acme", "finance", record("whsec_mine"))
    assert len(reads) == 1 and store.read("acme", "finance") == record("whsec_mine")
    other = VaultStore(vault_store_env)  # a store that never saw the record: reads it once
    other.write("acme", "finance", record("whsec_again"))
    assert other.read("acme", "finance") == record("whsec_again")


def test_cas_required_mount_works(vault_server: VaultServer) -> None:
    mount = f"cas{uuid.uuid4().hex[:8]}"
    vault_server.enable_cas_required_mount(mount)
    with pytest.raises(hvac.exceptions.InvalidRequest, match="check-and-set"):  # the mount really demands it
        vault_server.client().secrets.kv.v2.create_or_update_secret(path="x", secret={"a": "b"}, mount_point=mount)
    store = VaultStore(vault_server.config(mount=mount))
    store.preflight()
    store.write("acme", "finance", record())
    store.write("acme", "finance", record("whsec_rotated", rotated_at="2026-03-01T00:00:00Z"))
    store.write_index("acme", {"finance": IndexEntry("wh_123")})
    assert store.read("acme", "finance") == record("whsec_rotated", rotated_at="2026-03-01T00:00:00Z")
    assert store.read_index("acme") == {"finance": IndexEntry("wh_123")}
    store.delete("acme", "finance")
    assert store.read("acme", "finance") is None


def test_least_privilege_token_is_enough(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    token = vault_server.least_privilege_token()
    store = VaultStore(vault_server.config(token, path=vault_store_env.path))
    store.preflight()
    store.write("acme", "finance", record())
    store.write("acme", "finance", record("whsec_rotated"))
    store.write_index("acme", {"finance": IndexEntry("wh_123")})
    assert store.read("acme", "finance") == record("whsec_rotated")
    assert store.read_index("acme") == {"finance": IndexEntry("wh_123")}
    store.delete("acme", "finance")
    assert store.read("acme", "finance") is None


def test_least_privilege_token_outside_its_path_is_refused(vault_server: VaultServer) -> None:
    token = vault_server.least_privilege_token()
    store = VaultStore(vault_server.config(token, path="elsewhere"))
    with pytest.raises(SecretStoreError, match="permission denied") as caught:
        store.write("acme", "finance", record())
    assert token not in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize("operation", ["preflight", "read", "write", "read_index", "delete"])
def test_token_without_rights_fails_clearly(
    vault_server: VaultServer, vault_store_env: StoreConfig, operation: str
) -> None:
    token = vault_server.token_without_rights()
    store = VaultStore(vault_server.config(token, path=vault_store_env.path))
    calls: dict[str, Callable[[], object]] = {
        "preflight": store.preflight,
        "read": lambda: store.read("acme", "finance"),
        "write": lambda: store.write("acme", "finance", record()),
        "read_index": lambda: store.read_index("acme"),
        "delete": lambda: store.delete("acme", "finance"),
    }
    with pytest.raises(SecretStoreError) as caught:
        calls[operation]()
    message = str(caught.value)
    verb = {"read_index": "read the index", "preflight": "write a probe to"}.get(operation, operation)
    assert message.startswith(f"vault store 'team-vault': could not {verb} secret/data/")
    assert "permission denied (HTTP 403)" in message
    assert token not in message and SECRET not in message and vault_server.root_token not in message
    assert token not in repr(store)


def test_missing_mount_fails_clearly(vault_server: VaultServer) -> None:
    store = VaultStore(vault_server.config(mount="no-such-mount"))
    with pytest.raises(SecretStoreError, match="no-such-mount") as caught:
        store.write("acme", "finance", record())
    assert SECRET not in str(caught.value)


def test_sealed_server_fails_clearly(throwaway_server: VaultServer) -> None:
    store = VaultStore(throwaway_server.config())
    store.write("acme", "finance", record())
    throwaway_server.client().sys.seal()
    with pytest.raises(SecretStoreError, match="sealed") as caught:
        store.read("acme", "finance")
    assert throwaway_server.root_token not in str(caught.value)


def test_stopped_server_fails_clearly(throwaway_server: VaultServer) -> None:
    store = VaultStore(throwaway_server.config())
    store.write("acme", "finance", record())
    throwaway_server.stop()
    with pytest.raises(SecretStoreError) as caught:
        store.write("acme", "finance", record())
    message = str(caught.value)
    assert f"cannot connect to {throwaway_server.address}" in message
    assert throwaway_server.root_token not in message and SECRET not in message


def test_a_server_that_never_answers_times_out(vault_server: VaultServer) -> None:
    with socket.socket() as listener:  # accepts connections into its backlog, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = StoreConfig(name="team-vault", type="vault", address=address, token=record().secret)
        with pytest.raises(SecretStoreError, match=r"no answer from .* within 0.3 s"):
            VaultStore(config, timeout=0.3).read("acme", "finance")


def test_reprs_hold_no_token_or_secret(vault_server: VaultServer, vault_store_env: StoreConfig) -> None:
    store = VaultStore(vault_store_env)
    store.write("acme", "finance", record())
    stored = store.read("acme", "finance")
    assert SECRET not in repr(stored)
    assert vault_server.root_token not in repr(store) and vault_server.root_token not in repr(vault_store_env)


@pytest.mark.parametrize("bypass", [False, True], ids=["proxied", "no_proxy"])
def test_proxy_environment_is_honoured(
    vault_server: VaultServer, vault_store_env: StoreConfig, monkeypatch: pytest.MonkeyPatch, bypass: bool
) -> None:
    """The store reads requests' environment once instead of per request: HTTP_PROXY and NO_PROXY still
    apply. The proxy here is a closed port, so a proxied read fails to connect."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    if bypass:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    store = VaultStore(vault_store_env)
    if bypass:
        assert store.read_index("acme") is None
    else:
        with pytest.raises(SecretStoreError, match="cannot connect"):
            store.read_index("acme")


@pytest.fixture
def tls_server() -> Iterator[VaultServer]:
    """An OpenBao serving https with a certificate from a CA of its own, not in any trust store."""
    try:
        server = start_openbao(tls=True)
    except RuntimeError as exc:
        unavailable(f"no OpenBao server with TLS: {exc}")
        raise
    try:
        yield server
    finally:
        server.stop()


def test_https_with_the_ca_bundle_from_the_environment(
    tls_server: VaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls_server.ca_file is not None
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_server.ca_file))
    store = VaultStore(tls_server.config())
    store.preflight()
    store.write("acme", "finance", record())
    assert store.read("acme", "finance") == record()


def test_https_without_trusting_the_ca_fails_clearly(tls_server: VaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    store = VaultStore(tls_server.config())
    with pytest.raises(SecretStoreError) as caught:
        store.read("acme", "finance")
    message = str(caught.value)
    assert f"the TLS handshake with {tls_server.address} failed" in message and "CERTIFICATE_VERIFY_FAILED" in message
    assert "REQUESTS_CA_BUNDLE" in message
    assert tls_server.root_token not in message


def test_a_missing_index_of_an_org_with_no_record_costs_one_list(
    vault_server: VaultServer, vault_store_env: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An org's first apply: one LIST shows nothing is stored, instead of a read per declared webhook; an org
    with records but no index is still rebuilt from them."""
    store = VaultStore(vault_store_env)
    hooks = tuple(DesiredWebhook(f"h{i}", f"https://hooks.acme.example/h{i}") for i in range(5))
    org = Organization("acme", "ingate", "https://api.example", Secret("t"), vault_store_env.name, webhooks=hooks)
    read = store.read
    reads: list[str] = []

    def counted(org_name: str, webhook: str) -> SecretRecord | None:
        reads.append(webhook)
        return read(org_name, webhook)

    monkeypatch.setattr(store, "read", counted)
    assert load_index(store, org) == IndexLoad({})
    assert reads == []
    store.write("acme", "h3", record())
    rebuilt = load_index(store, org)
    assert rebuilt.rebuilt and rebuilt.complete and rebuilt.entries == {"h3": IndexEntry(record().webhook_id)}
