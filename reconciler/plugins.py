"""Providers and secret stores as plugins (contract §8): what a plugin declares, and which ones are installed.

A distribution registers a provider under the entry-point group `webhook_reconciler.providers` (the entry
point names a `ProviderPlugin`) and a store under `webhook_reconciler.secret_stores` (a `StorePlugin`); the
built-in five providers and two stores are registered the same way, in this project's pyproject.toml. An
emulator for `reconciler sandbox` is registered under `webhook_reconciler.emulators` (a `ProviderSpec` of
reconciler.sandbox.wire), so the sandbox never imports the product's tables to serve it.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.core.capabilities import Capabilities
from reconciler.core.errors import ProviderError, SecretStoreError
from reconciler.core.secret import Secret
from reconciler.providers.base import Provider, ProviderPlugin
from reconciler.stores.base import SecretStore, StorePlugin

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from reconciler.core.model import StoreConfig
    from reconciler.providers.http import RetryPolicy

log = logging.getLogger("reconciler.plugins")

PROVIDERS_GROUP = "webhook_reconciler.providers"
STORES_GROUP = "webhook_reconciler.secret_stores"


def load(reference: str) -> Any:
    """The object a `module:attribute` reference names."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def provider(name: str) -> ProviderPlugin | None:
    """One installed provider. A built-in one is found without scanning the installed distributions'
    entry points (importing importlib.metadata and scanning cost about 30 ms of every run's start-up)."""
    from reconciler.providers import builtin

    return next((p for p in builtin.PROVIDERS if p.name == name), None) or providers().get(name)


def store(type_: str) -> StorePlugin | None:
    """One installed store type; a built-in one without a scan (see `provider`)."""
    from reconciler.stores import builtin

    return next((s for s in builtin.STORES if s.type == type_), None) or stores().get(type_)


@functools.cache
def providers() -> dict[str, ProviderPlugin]:
    """Every installed provider by name; the built-ins first, in their order."""
    from reconciler.providers import builtin

    return _registered(PROVIDERS_GROUP, ProviderPlugin, builtin.PROVIDERS, lambda p: p.name)


@functools.cache
def stores() -> dict[str, StorePlugin]:
    """Every installed secret store type by name."""
    from reconciler.stores import builtin

    return _registered(STORES_GROUP, StorePlugin, builtin.STORES, lambda s: s.type)


def _registered(group: str, kind: type[Any], builtins: tuple[Any, ...], key: Callable[[Any], str]) -> dict[str, Any]:
    # The built-ins are also used directly, so a source tree that was never installed (no entry points) works.
    found = {key(p): p for p in builtins}
    for point in sorted(_entry_points(group), key=lambda e: e.name):
        try:
            plugin = point.load()
        except Exception as exc:  # a broken plugin must not take the tool down: name it and go on
            log.warning("plugin %s (%s) could not be loaded: %s: %s", point.name, group, type(exc).__name__, exc)
            continue
        if not isinstance(plugin, kind) or key(plugin) != point.name:
            log.warning("plugin %s (%s) is not a %s named %s; ignored", point.name, group, kind.__name__, point.name)
            continue
        if point.name in found and found[point.name] != plugin:
            log.warning("plugin %s (%s) would replace a built-in; ignored", point.name, group)
            continue
        found[point.name] = plugin
    return found


def _entry_points(group: str) -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


class _Installed(Mapping[str, Capabilities]):
    """Provider name -> capabilities of every installed provider, read on first use."""

    def _all(self) -> dict[str, Capabilities]:
        return {name: plugin.capabilities for name, plugin in providers().items()}

    def __getitem__(self, name: str) -> Capabilities:
        plugin = provider(name)
        if plugin is None:
            raise KeyError(name)
        return plugin.capabilities

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


CAPABILITIES: Mapping[str, Capabilities] = _Installed()


def open_provider(
    name: str,
    base_url: str,
    token: Secret,
    *,
    read_only: bool,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    deadline: float | None = None,
) -> Provider:
    """The adapter of installed provider `name` for one org. `read_only=True` refuses every write before it is
    sent (plan, drift, validate, import). Safe to call from many threads."""
    from reconciler.providers import connect

    plugin = provider(name)
    if plugin is None:
        raise ProviderError(f"unknown provider {name!r} (installed: {', '.join(providers())})")
    adapter = load(plugin.adapter)
    return connect(
        adapter, plugin.capabilities, base_url, token, read_only=read_only, timeout=timeout, retry=retry,
        deadline=deadline,
    )


def open_store(config: StoreConfig) -> SecretStore:
    """The store a manifest's `secret_stores` entry describes; no I/O until its first call. A type's library
    (keyring; hvac, which pulls in requests) is imported only when that type is used."""
    plugin = store(config.type)
    if plugin is None:
        raise SecretStoreError(
            f"secret store {config.name!r}: unknown type {config.type!r} (installed: {', '.join(stores())})"
        )
    made: Callable[[StoreConfig], SecretStore] = load(plugin.factory)
    return made(config)
