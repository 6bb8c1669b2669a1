"""Hookrelay's plugin object: the API's capabilities (validation and planning read only these) and its adapter."""

from __future__ import annotations

from reconciler.core.capabilities import Capabilities
from reconciler.providers.base import ProviderPlugin

CAPABILITIES = Capabilities(
    name="hookrelay",
    default_base_url="https://api.hookrelay.example",
    events=frozenset({"message.sent", "message.failed", "contact.created", "contact.deleted"}),
    empty_events_means_all=False,  # at least one topic: omitted events means the whole catalog
    label_field="name",
    has_description=False,
    pausable=True,
    client_secret="never",
    rotate_in_place=True,
    test="none",
    deliveries=False,
    https_only=True,
    options=frozenset(),
    requests_per_minute=None,
)

PLUGIN = ProviderPlugin(CAPABILITIES, "webhook_reconciler_hookrelay.adapter:HookrelayProvider")
