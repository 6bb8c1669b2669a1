"""Adapters bound to the running sandbox, with retries that do not really sleep."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from reconciler.core.secret import Secret
from reconciler.plugins import open_provider
from reconciler.providers import Provider, close_all
from reconciler.providers.http import RetryPolicy
from reconciler.sandbox import Sandbox

TOKEN = "sandbox-token"


@dataclass
class Opener:
    """Opens adapters against the sandbox; `sleeps` collects every backoff wait instead of sleeping."""

    sandbox: Sandbox
    sleeps: list[float] = field(default_factory=list)

    def __call__(
        self,
        provider: str,
        *,
        token: str = TOKEN,
        read_only: bool = False,
        account: str = "default",
        max_attempts: int = 4,
    ) -> Provider:
        retry = RetryPolicy(max_attempts=max_attempts, sleep=self.sleeps.append, jitter=lambda: 0.5)
        base_url = self.sandbox.base_url(provider, account)
        return open_provider(provider, base_url, Secret(token), read_only=read_only, timeout=5.0, retry=retry)


@pytest.fixture
def opener(sandbox: Sandbox) -> Iterator[Opener]:
    yield Opener(sandbox)
    close_all()
