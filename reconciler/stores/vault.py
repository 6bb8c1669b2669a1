"""The HashiCorp Vault / OpenBao KV v2 store (contract §5): one record per webhook, check-and-set writes."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import urllib3.exceptions

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import IndexEntry, SecretRecord, StoreConfig
from reconciler.core.redact import hide
from reconciler.core.secret import Secret
from reconciler.runtime import locking
from reconciler.runtime.locking import Attempt, Holder
from reconciler.stores.codec import (
    INDEX_NAME,
    index_fields,
    index_from_fields,
    record_fields,
    record_from_fields,
)
from reconciler.stores.vault_transport import PooledAdapter, connection_pool

T = TypeVar("T")
DEFAULT_TIMEOUT = 10.0  # seconds, for every HTTP call
LOCK_NAME = "_lock"


class VaultStore:
    """A `SecretStore` on a KV v2 mount. Safe to share between threads (hvac over one connection pool)."""

    lists_cheaply = True  # `names` is one LIST request, cheaper than reading records one by one (engine/reading.py)

    def __init__(self, config: StoreConfig, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not config.address or config.token is None:
            raise SecretStoreError(f"vault store {config.name!r}: `address` and `token` are required")
        self.name = config.name
        self.address = config.address.rstrip("/")
        self.mount = config.mount.strip("/")
        self.path = config.path.strip("/")
        self.timeout = timeout
        self._token: Secret = config.token
        self._client: Any = None  # hvac.Client, made at first use
        # Each path's version as this store last read or wrote it: a write tries check-and-set on it first
        # and reads the version only when that fails, so a write is one round trip instead of two. Measured
        # (bench/README.md): the store writes of a create 13.5 -> 7 ms; 1,000 creates 7.7 -> 6.6 s.
        self._known: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"VaultStore(name={self.name!r}, address={self.address!r}, path={self._where(self.path)!r})"

    # --- SecretStore -------------------------------------------------------------------------------------

    def preflight(self) -> None:
        path = self._path("_preflight", secrets.token_hex(8))
        probe = secrets.token_urlsafe(24)
        self._write(path, {"probe": probe}, "write a probe to")
        try:
            read_back = self._read(path, "read a probe from")
        except SecretStoreError:
            with contextlib.suppress(SecretStoreError):  # the read failure is the one to report
                self._destroy(path, "delete the probe at")
            raise
        self._destroy(path, "delete the probe at")
        if read_back is None or read_back.get("probe") != probe:
            raise SecretStoreError(
                f"vault store {self.name!r}: a probe written to {self._where(path)} did not read back"
            )

    def read(self, org: str, webhook: str) -> SecretRecord | None:
        path = self._path(org, webhook)
        data = self._read(path, "read")
        if data is None:
            return None
        try:
            secret = data.get("secret")
            if not isinstance(secret, str):
                raise ValueError("field 'secret' is missing or not a string")
            return record_from_fields(secret, data)
        except ValueError as exc:
            raise SecretStoreError(
                f"vault store {self.name!r}: the record {self._where(path)} is unreadable ({exc})"
            ) from None

    def write(self, org: str, webhook: str, record: SecretRecord) -> None:
        data = {"secret": record.secret.reveal(), **record_fields(record)}
        self._write(self._path(org, webhook), data, "write")

    def delete(self, org: str, webhook: str) -> None:
        self._destroy(self._path(org, webhook), "delete")

    def read_index(self, org: str) -> dict[str, IndexEntry] | None:
        data = self._read(self._path(org, INDEX_NAME), "read the index")
        return None if data is None else index_from_fields(data)

    def write_index(self, org: str, index: Mapping[str, IndexEntry]) -> None:
        self._write(self._path(org, INDEX_NAME), index_fields(index), "write the index")

    def names(self, org: str) -> list[str] | None:
        folder = self._path(org)
        try:
            response = self._call(
                "list the records of", folder, lambda kv: kv.list_secrets(path=folder, mount_point=self.mount)
            )
        except _Missing:
            return []
        except SecretStoreError:
            return None  # e.g. a token without `list` on the metadata: the caller treats the list as unknown
        keys = response.get("data", {}).get("keys", [])
        # Names starting with `_` are the tool's own records (the index, the lock), never a webhook's.
        return sorted(k for k in keys if isinstance(k, str) and not k.endswith("/") and not k.startswith("_"))

    def location(self, org: str, webhook: str) -> str:
        return f"vault {self.address} {self._where(self._path(org, webhook))}"

    def org_lock(self, org: str, me: Holder) -> VaultLock:
        return VaultLock(self, self._path(org, LOCK_NAME), me)

    # --- KV v2 -------------------------------------------------------------------------------------------

    def _read(self, path: str, operation: str) -> dict[str, Any] | None:
        """The latest version's data, or None when the path is missing or its latest version deleted."""
        try:
            response = self._call(
                operation,
                path,
                lambda kv: kv.read_secret_version(path=path, mount_point=self.mount, raise_on_deleted_version=True),
            )
        except _Missing:
            return None
        self._note(path, response.get("data") or {})
        data = response.get("data", {}).get("data")
        return data if isinstance(data, dict) else None

    def _write(self, path: str, data: Mapping[str, object], operation: str) -> None:
        """Check-and-set on the version just read, so a concurrent writer is detected, not overwritten.

        First on the version last seen here (0 for a path not seen: a new record); if the record moved
        since, the version is read and the write tried on it, as if read just before. A write that succeeds
        on the first try found the record at the version it would have read then: the same outcome."""
        if self._cas_write(path, data, self._known.get(path, 0), operation):
            return
        if not self._cas_write(path, data, self._version(path, operation), operation):
            raise SecretStoreError(
                f"vault store {self.name!r}: could not {operation} {self._where(path)}: "
                "another run changed the record at the same time; run again"
            )

    def _cas_write(self, path: str, data: Mapping[str, object], version: int, operation: str) -> bool:
        """Write `data` only if the record is still at `version` (0: does not exist); False if it is not."""
        secret = data.get("secret")
        try:
            response = self._call(
                operation,
                path,
                lambda kv: kv.create_or_update_secret(
                    path=path, secret=dict(data), cas=version, mount_point=self.mount
                ),
                secret if isinstance(secret, str) else "",
            )
        except _Missing:
            raise SecretStoreError(
                f"vault store {self.name!r}: could not {operation} {self._where(path)}: "
                f"not found (HTTP 404); is `{self.mount}` a KV v2 mount?"
            ) from None
        except _CasConflict:
            return False
        self._note(path, {"metadata": response.get("data") if isinstance(response, dict) else None})
        return True

    def _destroy(self, path: str, operation: str) -> None:
        # Metadata and every version: a soft delete would leave old secrets behind. A missing path is a 204.
        self._call(operation, path, lambda kv: kv.delete_metadata_and_all_versions(path=path, mount_point=self.mount))
        self._known[path] = 0

    def _note(self, path: str, body: Mapping[str, Any]) -> None:
        """Remember the version a KV v2 answer (`data` of a read, or a write's metadata) gives; forget the
        path's version when it gives none."""
        version = (body.get("metadata") or {}).get("version")
        if isinstance(version, int):
            self._known[path] = version
        else:
            self._known.pop(path, None)

    def _version(self, path: str, operation: str) -> int:
        """The current version number (a deleted one counts), 0 when the path has never been written."""
        return self._versioned(path, operation)[1]

    def _versioned(self, path: str, operation: str) -> tuple[dict[str, Any] | None, int]:
        """The latest version's data (None when deleted) and its number (0 when never written)."""
        try:
            response = self._call(
                operation,  # the caller's: a write that cannot read the current version failed as a write
                path,
                lambda kv: kv.read_secret_version(path=path, mount_point=self.mount, raise_on_deleted_version=False),
            )
        except _Missing:
            self._known[path] = 0
            return None, 0
        body = response.get("data") or {}
        self._note(path, body)
        version = (body.get("metadata") or {}).get("version", 0)
        data = body.get("data")
        return (data if isinstance(data, dict) else None), (version if isinstance(version, int) else 0)

    def _call(self, operation: str, path: str, call: Callable[[Any], T], secret: str = "") -> T:
        """Run one hvac KV v2 call; signal 404 and CAS conflicts; any other failure is a SecretStoreError."""
        try:
            return call(self._kv())
        except hvac.exceptions.InvalidPath:
            raise _Missing from None
        except hvac.exceptions.InvalidRequest as exc:
            if any("check-and-set" in str(error) for error in exc.errors or ()):
                raise _CasConflict from None
            raise self._failure(operation, path, exc, secret) from None
        except Exception as exc:
            raise self._failure(operation, path, exc, secret) from None

    def _failure(self, operation: str, path: str, exc: Exception, secret: str) -> SecretStoreError:
        # Never echo the token or the secret, whatever a library put in its message.
        why = hide(self._explain(exc), [self._token.reveal(), secret])
        return SecretStoreError(f"vault store {self.name!r}: could not {operation} {self._where(path)}: {why}")

    def _explain(self, exc: Exception) -> str:
        if isinstance(exc, hvac.exceptions.Forbidden):
            return (
                "permission denied (HTTP 403): the token is invalid or expired, or its policy does not allow this path"
            )
        if isinstance(exc, hvac.exceptions.Unauthorized):
            return "the token was rejected (HTTP 401)"
        if isinstance(exc, hvac.exceptions.VaultDown):
            return "the server is sealed or unavailable (HTTP 503); unseal it and run again"
        if isinstance(exc, hvac.exceptions.VaultError):
            errors = "; ".join(str(e) for e in exc.errors or ()) or type(exc).__name__
            return f"the server answered: {errors}"
        # NewConnectionError is a kind of ConnectTimeoutError in urllib3: ask about it first.
        if isinstance(exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ProxyError):
            return f"cannot connect to {self.address} (is the server running and reachable?)"
        if isinstance(exc, urllib3.exceptions.SSLError):
            reason = exc.args[0] if exc.args else exc
            return (
                f"the TLS handshake with {self.address} failed ({reason}); if a private CA signed its "
                "certificate, name that CA's bundle in REQUESTS_CA_BUNDLE"
            )
        if isinstance(exc, urllib3.exceptions.TimeoutError):
            return f"no answer from {self.address} within {self.timeout:g} s"
        if isinstance(exc, urllib3.exceptions.HTTPError):
            return f"the connection to {self.address} failed ({type(exc).__name__})"
        return f"{type(exc).__name__}: {exc}"

    def _kv(self) -> Any:
        if self._client is None:
            self._client = hvac.Client(
                url=self.address,
                token=self._token.reveal(),
                adapter=PooledAdapter,
                pool=connection_pool(self.address, self.timeout),
            )
        return self._client.secrets.kv.v2

    def _path(self, *parts: str) -> str:
        return "/".join(p for p in (self.path, *parts) if p)

    def _where(self, path: str) -> str:
        return f"{self.mount}/data/{path}"


class VaultLock:
    """An org's lock (contract §5.1): the record `<path>/<org>/_lock`, created with check-and-set so that only one
    run can create it, naming its holder and an expiry the holder renews (a killed run's lock lapses)."""

    renews = True

    def __init__(self, store: VaultStore, path: str, me: Holder) -> None:
        self.store = store
        self.path = path
        self.me = me
        self._held = 0  # the version this run wrote; 0 while it holds nothing

    def try_acquire(self) -> Attempt:
        if self._write(0):  # the common case, a free lock: one request
            return Attempt(True)
        data, version = self.store._versioned(self.path, "read the lock")
        stale, why = None, ""
        if data is not None:
            try:
                stale = Holder.from_fields(data)
            except ValueError:
                why = "its record is not a lock this tool wrote"  # nobody can renew it: take it over
            else:
                why = stale.gone(time.time()) or ""
                if not why:
                    return Attempt(False, stale)
        if not self._write(version):
            return Attempt(False, self.holder())  # another run created or took it over first
        return Attempt(True, stale, why) if why else Attempt(True)

    def renew(self) -> bool:
        return bool(self._held) and self._write(self._held)

    def release(self) -> None:
        if not self._held:
            return
        with contextlib.suppress(SecretStoreError):  # it lapses at its expiry anyway
            data, _ = self.store._versioned(self.path, "read the lock")
            if data is not None and data.get("run") == self.me.run:
                self.store._destroy(self.path, "remove the lock")
        self._held = 0

    def holder(self) -> Holder | None:
        data, _ = self.store._versioned(self.path, "read the lock")
        if data is None:
            return None
        try:
            return Holder.from_fields(data)
        except ValueError:
            return None

    def force_release(self) -> None:
        self.store._destroy(self.path, "remove the lock")

    def _write(self, version: int) -> bool:
        mine = dataclasses.replace(self.me, expires_at=time.time() + locking.LEASE)
        if not self.store._cas_write(self.path, mine.fields(), version, "write the lock"):
            return False
        self._held = version + 1
        return True


class _Missing(Exception):
    """The path does not exist (HTTP 404)."""


class _CasConflict(Exception):
    """A check-and-set write lost against another writer."""
