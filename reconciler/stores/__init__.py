"""Secret stores (SPEC §5). `open_store` imports a backend's library only when that type is used."""

from __future__ import annotations

from reconciler.errors import SecretStoreError
from reconciler.model import StoreConfig
from reconciler.stores.base import SecretStore


def open_store(config: StoreConfig) -> SecretStore:
    """The store a manifest's `secret_stores` entry describes; no I/O until its first call."""
    # Imported here: keyring and hvac (which pulls in requests) cost start-up time commands may not need.
    if config.type == "keyring":
        from reconciler.stores.keyring import KeyringStore

        return KeyringStore(config)
    if config.type == "vault":
        from reconciler.stores.vault import VaultStore

        return VaultStore(config)
    raise SecretStoreError(f"secret store {config.name!r}: unknown type {config.type!r}")
