"""The five built-in providers, registered like any plugin (pyproject.toml's entry points)."""

from __future__ import annotations

from reconciler.providers import capabilities as caps
from reconciler.providers.base import ProviderPlugin

INGATE = ProviderPlugin(caps.INGATE, "reconciler.providers.ingate:IngateProvider")
INFRAAUDIT = ProviderPlugin(caps.INFRAAUDIT, "reconciler.providers.infraaudit:InfraAuditProvider")
KEEPTRUSTS = ProviderPlugin(caps.KEEPTRUSTS, "reconciler.providers.keeptrusts:KeeptrustsProvider")
IMMUTA = ProviderPlugin(caps.IMMUTA, "reconciler.providers.immuta:ImmutaProvider")
ENCRATA = ProviderPlugin(caps.ENCRATA, "reconciler.providers.encrata:EncrataProvider")

PROVIDERS = (INGATE, INFRAAUDIT, KEEPTRUSTS, IMMUTA, ENCRATA)
