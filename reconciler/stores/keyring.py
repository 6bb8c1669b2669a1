"""The OS keyring store (contract §5): the secret under `<org>/<webhook>`, its metadata as JSON under `#meta`."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

import keyring
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringLocked, NoKeyringError

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import IndexEntry, SecretRecord, StoreConfig
from reconciler.core.redact import hide
from reconciler.runtime.locking import Holder
from reconciler.stores.codec import (
    INDEX_NAME,
    index_fields,
    index_from_fields,
    record_fields,
    record_from_fields,
)
from reconciler.stores.file_lock import FileLock
from reconciler.stores.secret_service import pin_default_collection

T = TypeVar("T")

# A Secret Service connection (secretstorage over D-Bus) is not thread-safe, and every backend of one
# process talks to the same daemon: one process-wide lock serialises every backend call of every store.
_BACKEND_LOCK = threading.RLock()

_HOW_TO_FIX = (
    "start or unlock a Secret Service (e.g. the desktop's login keyring, or gnome-keyring-daemon --unlock), "
    "or set PYTHON_KEYRING_BACKEND to a backend that encrypts its secrets, or use a `type: vault` store"
)


def refusal(backend: KeyringBackend) -> str | None:
    """Why `backend` cannot hold a signing secret (it fails, discards or writes plaintext); None if it can."""
    cls = type(backend)
    module, name = cls.__module__, cls.__qualname__
    if isinstance(backend, ChainerBackend):
        chained: list[KeyringBackend] = list(getattr(backend, "backends", []))
        if not chained:
            return "no keyring backend is available (keyring's chainer has nothing to chain)"
        # The chainer writes to the first backend that accepts: any unsafe member may receive the secret.
        return next((reason for reason in map(refusal, chained) if reason), None)
    if module == "keyring.backends.fail":
        return "no keyring backend is available (keyring fell back to its `fail` backend)"
    if module == "keyring.backends.null":
        return "the keyring backend is keyring's `null` backend, which discards every secret"
    if module.startswith("keyrings.alt.file") or name.startswith("Plaintext"):
        return f"the keyring backend {module}.{name} keeps secrets in a file on disk, not encrypted"
    return None


class KeyringStore:
    """A `SecretStore` over `keyring`; `backend` defaults to `keyring.get_keyring()` at first use."""

    def __init__(self, config: StoreConfig, backend: KeyringBackend | None = None) -> None:
        self.name = config.name
        self.service = config.service
        self._backend = backend

    def __repr__(self) -> str:
        return f"KeyringStore(name={self.name!r}, service={self.service!r})"

    # --- SecretStore -------------------------------------------------------------------------------------

    def preflight(self) -> None:
        reason = self._run("check the backend of", "", refusal)
        if reason:
            raise SecretStoreError(
                f"keyring store {self.name!r}: {reason}; refusing to store secrets there. To fix: {_HOW_TO_FIX}."
            )
        username = f"_preflight/{secrets.token_hex(8)}"
        probe = secrets.token_urlsafe(24)
        self._run("write a probe to", username, lambda b: b.set_password(self.service, username, probe))
        try:
            read_back = self._run("read a probe from", username, lambda b: b.get_password(self.service, username))
        except SecretStoreError:
            with contextlib.suppress(SecretStoreError):  # the read failure is the one to report
                self._delete(username)
            raise
        self._delete(username)
        if read_back != probe:
            raise SecretStoreError(
                f"keyring store {self.name!r}: a probe written to service={self.service} username={username} "
                f"did not read back; the backend loses secrets. To fix: {_HOW_TO_FIX}."
            )

    def read(self, org: str, webhook: str) -> SecretRecord | None:
        username = _username(org, webhook)
        secret, meta = self._run(
            "read",
            username,
            lambda b: (
                b.get_password(self.service, username),
                b.get_password(self.service, username + "#meta"),
            ),
        )
        if secret is None:
            # Without the secret a record is worthless; a leftover `#meta` (half-done delete) counts as gone.
            return None
        try:
            fields = json.loads(meta) if meta is not None else None
            if not isinstance(fields, dict):
                raise ValueError("the metadata is missing or not a JSON object")
            return record_from_fields(secret, fields)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise SecretStoreError(
                f"keyring store {self.name!r}: the record service={self.service} username={username} "
                f"is unreadable ({_describe(exc)}); delete both `{username}` and `{username}#meta` "
                "to let the tool write it again"
            ) from None

    def write(self, org: str, webhook: str, record: SecretRecord) -> None:
        username = _username(org, webhook)
        meta = json.dumps(record_fields(record), sort_keys=True)

        def write_both(backend: KeyringBackend) -> None:
            # Secret first: a crash in between leaves the new secret with the old metadata (same webhook
            # on a rotation), never new metadata pointing at a stale secret.
            backend.set_password(self.service, username, record.secret.reveal())
            backend.set_password(self.service, username + "#meta", meta)

        self._run("write", username, write_both, record.secret.reveal())

    def delete(self, org: str, webhook: str) -> None:
        username = _username(org, webhook)
        with _BACKEND_LOCK:  # one critical section, so no other thread sees a half-deleted record
            self._delete(username)
            self._delete(username + "#meta")

    def read_index(self, org: str) -> dict[str, IndexEntry] | None:
        username = _username(org, INDEX_NAME)
        text = self._run("read the index", username, lambda b: b.get_password(self.service, username))
        if text is None:
            return None
        try:
            return index_from_fields(json.loads(text))
        except ValueError:
            return None

    def write_index(self, org: str, index: Mapping[str, IndexEntry]) -> None:
        username = _username(org, INDEX_NAME)
        text = json.dumps(index_fields(index), sort_keys=True)
        self._run("write the index", username, lambda b: b.set_password(self.service, username, text))

    def names(self, org: str) -> list[str] | None:
        # The keyring API cannot list; the Secret Service (Linux) can search items by their attributes.
        def search(backend: KeyringBackend) -> list[str] | None:
            from keyring.backends import SecretService

            if not isinstance(backend, SecretService.Keyring):
                return None
            collection = backend.get_preferred_collection()  # type: ignore[no-untyped-call]
            with contextlib.closing(collection.connection):  # keyring's own calls close theirs too
                items = collection.search_items({"service": self.service})
                usernames = [item.get_attributes().get("username", "") for item in items]
            prefix = f"{org}/"
            return sorted(
                {u[len(prefix) : -len("#meta")] for u in usernames if u.startswith(prefix) and u.endswith("#meta")}
            )

        return self._run("list the records of", _username(org, "*"), search)

    def location(self, org: str, webhook: str) -> str:
        return f"keyring service={self.service} username={_username(org, webhook)}"

    def org_lock(self, org: str, me: Holder) -> FileLock:
        return FileLock(self.service, org, me)

    # --- helpers -----------------------------------------------------------------------------------------

    def _delete(self, username: str) -> None:
        """Delete one item if present (backends disagree on what deleting a missing item raises)."""

        def delete_if_present(backend: KeyringBackend) -> None:
            if backend.get_password(self.service, username) is not None:
                backend.delete_password(self.service, username)

        self._run("delete", username, delete_if_present)

    def _run(self, operation: str, username: str, call: Callable[[KeyringBackend], T], secret: str = "") -> T:
        """Run `call` on the backend under the process-wide lock; any failure becomes a SecretStoreError."""
        with _BACKEND_LOCK:
            try:
                if self._backend is None:
                    self._backend = keyring.get_keyring()
                    pin_default_collection(self._backend)
                return call(self._backend)
            except Exception as exc:
                raise SecretStoreError(self._failure(operation, username, exc, secret)) from None

    def _failure(self, operation: str, username: str, exc: Exception, secret: str) -> str:
        where = f"service={self.service}" + (f" username={username}" if username else "")
        message = f"keyring store {self.name!r}: could not {operation} {where}: {_describe(exc, secret)}"
        if isinstance(exc, KeyringLocked) or "dismissed" in str(exc).lower():
            return f"{message}. The keyring is locked: unlock it (e.g. the login keyring) and run again"
        if isinstance(exc, NoKeyringError):
            return f"{message}. To fix: {_HOW_TO_FIX}"
        if isinstance(exc, OSError):  # jeepney could not open the D-Bus socket
            return (
                f"{message}. The Secret Service is not reachable over D-Bus: start it, or check "
                "DBUS_SESSION_BUS_ADDRESS, and run again"
            )
        return message


def _username(org: str, webhook: str) -> str:
    return f"{org}/{webhook}"


def _describe(exc: Exception, secret: str = "") -> str:
    """`Type: text` of an exception, with `secret` cut out in case a backend echoes what it was given."""
    text = f"{type(exc).__name__}: {str(exc).rstrip('.!')}" if str(exc) else type(exc).__name__
    return hide(text, [secret])
