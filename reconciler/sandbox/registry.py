"""The five emulators, in the order `reconciler sandbox` lists them."""

from __future__ import annotations

from reconciler.sandbox import encrata, immuta, infraaudit, ingate, keeptrusts
from reconciler.sandbox.wire import ProviderSpec

SPECS: dict[str, ProviderSpec] = {
    spec.name: spec for spec in (ingate.SPEC, infraaudit.SPEC, keeptrusts.SPEC, immuta.SPEC, encrata.SPEC)
}


def spec_for(provider: str) -> ProviderSpec:
    try:
        return SPECS[provider]
    except KeyError:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(SPECS)}") from None
