"""Providers and secret stores as plugins (SPEC §8): what a plugin declares, and which ones are installed.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.providers.capabilities import Capabilities

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from reconciler.model import StoreConfig
    from reconciler.stores.base import SecretStore

log = logging.getLogger("reconciler.plugins")

PROVIDERS_GROUP = "webhook_reconciler.providers"
STORES_GROUP = "webhook_reconciler.secret_stores"
EMULATORS_GROUP = "webhook_reconciler.emulators"


@dataclass(frozen=True)
class ProviderPlugin:
    """A provider: what its API can do (validation and planning read only this) and its adapter, named as
    `module:Class` and imported only when an org of that provider talks to its API (validate stays fast).
    The class takes a `reconciler.providers.http.ApiClient` and implements `reconciler.providers.base.Provider`."""

    capabilities: Capabilities
    adapter: str

    @property
    def name(self) -> str:
        return self.capabilities.name


@dataclass(frozen=True)
class StorePlugin:
    """A secret store type: `factory` (`module:callable`) takes the store's StoreConfig and returns a
    `reconciler.stores.base.SecretStore`."""

    type: str
    factory: str

    def open(self, config: StoreConfig) -> SecretStore:
        made: Callable[[StoreConfig], SecretStore] = load(self.factory)
        return made(config)


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
