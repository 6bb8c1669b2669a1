"""The contract of a secret store (contract §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from reconciler.core.model import IndexEntry, SecretRecord
from reconciler.runtime.locking import Holder, OrgLock


class SecretStore(Protocol):
    """A store may also say `lists_cheaply = True` (`names` is one request, cheaper than reading records one
    by one: a new org's plan then lists instead of reading every declared webhook's record, engine/reading.py);
    optional, so a plugin's store written without it still works (read with `lists_cheaply()` below)."""

    name: str  # the manifest's store name

    def preflight(self) -> None:
        """Write, read back and delete a probe; raise SecretStoreError when secrets would be lost."""
        ...

    def read(self, org: str, webhook: str) -> SecretRecord | None: ...

    def write(self, org: str, webhook: str, record: SecretRecord) -> None: ...

    def delete(self, org: str, webhook: str) -> None:
        """Deleting a record that does not exist is not an error."""
        ...

    def read_index(self, org: str) -> dict[str, IndexEntry] | None:
        """The org's index record, or None when it is missing or unreadable."""
        ...

    def write_index(self, org: str, index: Mapping[str, IndexEntry]) -> None: ...

    def names(self, org: str) -> list[str] | None:
        """The webhook names that have a record for `org` (the index not included); None when the backend
        cannot list its records. Used only to rebuild a missing index."""
        ...

    def location(self, org: str, webhook: str) -> str:
        """Where the secret lives, for humans: e.g. `keyring service=S username=org/hook`."""
        ...

    def org_lock(self, org: str, me: Holder) -> OrgLock:
        """The org's lock (contract §5.1) as run `me` would take it; no I/O until it is tried."""
        ...


def lists_cheaply(store: object) -> bool:
    return bool(getattr(store, "lists_cheaply", False))


@dataclass(frozen=True)
class StorePlugin:
    """A secret store plugin (contract §8): `factory` (`module:callable`) takes the store's StoreConfig and returns
    a `SecretStore`; imported only when a store of this type is opened."""

    type: str
    factory: str
