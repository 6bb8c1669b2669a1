"""The five emulators, in the product's provider order."""

from __future__ import annotations

from reconciler.providers.capabilities import PROVIDER_NAMES
from reconciler.sandbox import encrata, immuta, infraaudit, ingate, keeptrusts
from reconciler.sandbox.wire import ProviderSpec

SPECS: dict[str, ProviderSpec] = {
    spec.name: spec for spec in (ingate.SPEC, infraaudit.SPEC, keeptrusts.SPEC, immuta.SPEC, encrata.SPEC)
}
assert tuple(SPECS) == PROVIDER_NAMES, "the sandbox must emulate exactly the product's providers"


def spec_for(provider: str) -> ProviderSpec:
    try:
        return SPECS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(SPECS)}") from None
