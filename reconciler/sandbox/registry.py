"""The emulators `reconciler sandbox` serves: the built-in five, in the order it lists them, then those that
installed plugins register under the entry-point group `webhook_reconciler.emulators` (a `ProviderSpec`)."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from reconciler.sandbox import encrata, immuta, infraaudit, ingate, keeptrusts
from reconciler.sandbox.wire import ProviderSpec

EMULATORS_GROUP = "webhook_reconciler.emulators"
log = logging.getLogger("reconciler.sandbox")


def _installed() -> dict[str, ProviderSpec]:
    specs = {spec.name: spec for spec in (ingate.SPEC, infraaudit.SPEC, keeptrusts.SPEC, immuta.SPEC, encrata.SPEC)}
    for point in sorted(entry_points(group=EMULATORS_GROUP), key=lambda e: e.name):
        if point.name in specs:
            continue  # a built-in (registered the same way), or a plugin that would replace one
        try:
            spec = point.load()
        except Exception as exc:  # a broken plugin must not take the sandbox down
            log.warning("emulator %s could not be loaded: %s: %s", point.name, type(exc).__name__, exc)
            continue
        if isinstance(spec, ProviderSpec) and spec.name == point.name:
            specs[spec.name] = spec
        else:
            log.warning("emulator %s is not a ProviderSpec named %s; ignored", point.name, point.name)
    return specs


SPECS: dict[str, ProviderSpec] = _installed()


def spec_for(provider: str) -> ProviderSpec:
    try:
        return SPECS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(SPECS)}") from None
