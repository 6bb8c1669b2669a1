"""Secret stores (SPEC §5). `open_store` imports a backend's library only when that type is used."""

from __future__ import annotations

from reconciler.errors import SecretStoreError
from reconciler.model import StoreConfig
from reconciler.stores.base import SecretStore


def open_store(config: StoreConfig) -> SecretStore:
    """The store a manifest's `secret_stores` entry describes; no I/O until its first call. A type's library
    (keyring; hvac, which pulls in requests) is imported only when that type is used."""
    from reconciler.plugins import store, stores

    plugin = store(config.type)
    if plugin is None:
        raise SecretStoreError(
            f"secret store {config.name!r}: unknown type {config.type!r} (installed: {', '.join(stores())})"
        )
    return plugin.open(config)
