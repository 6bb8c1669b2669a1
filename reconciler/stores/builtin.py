"""The two built-in secret stores, registered like any plugin (pyproject.toml's entry points). Their
libraries (keyring; hvac, which pulls in requests) are imported only when a store of that type is opened."""

from __future__ import annotations

from reconciler.stores.base import StorePlugin

KEYRING = StorePlugin("keyring", "reconciler.stores.keyring:KeyringStore")
VAULT = StorePlugin("vault", "reconciler.stores.vault:VaultStore")

STORES = (KEYRING, VAULT)
