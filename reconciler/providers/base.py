"""The contract every provider adapter satisfies. An adapter only translates JSON <-> model."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import ClassVar, Protocol

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import Delivery, DesiredWebhook, LiveWebhook, TestResult
from reconciler.core.secret import Secret


class Provider(Protocol):
    """One org's account on one provider, bound to its base URL and token."""

    capabilities: ClassVar[Capabilities]

    @property
    def writes_done(self) -> int:
        """How many writes (POST, PUT, DELETE) the API has confirmed so far: a change that fails after one of
        its steps took effect has changed something, and the report must say so."""
        ...

    def list(self) -> list[LiveWebhook]:
        """Every live webhook of the account: one request (plus pages)."""
        ...

    def get(self, webhook_id: str) -> LiveWebhook | None:
        """None when the API answers 404."""
        ...

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        """Create the webhook. `secret` is the client-supplied one (required when
        capabilities.client_secret == "required", optional when "optional"); the returned secret is
        the one receivers must verify with (the server's, or the one supplied)."""
        ...

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        """Make `live` look like `hook`; returns the webhook as it now is."""
        ...

    def delete(self, webhook_id: str) -> None:
        """A 404 counts as success (already gone)."""
        ...

    def rotate(self, live: LiveWebhook, secret: Secret | None) -> Secret:
        """In-place rotation (capabilities.rotate_in_place). `secret` is the client-supplied new one
        where the API takes it (Immuta); returns the secret now in force."""
        ...

    def test(self, webhook_id: str) -> TestResult: ...

    def deliveries(self, webhook_id: str) -> builtins.list[Delivery]: ...


@dataclass(frozen=True)
class ProviderPlugin:
    """A provider plugin (contract §8): what its API can do (validation and planning read only this) and its
    adapter, named as `module:Class` and imported only when an org of that provider talks to its API (validate
    stays fast). The class takes a `reconciler.providers.http.ApiClient` and implements `Provider`."""

    capabilities: Capabilities
    adapter: str

    @property
    def name(self) -> str:
        return self.capabilities.name
