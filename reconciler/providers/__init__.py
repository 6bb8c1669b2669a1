"""The provider registry: `open_provider()` binds an adapter to one org's base URL and token.

httpx and the adapters are imported on first use, so that `validate` (no network) starts fast.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Protocol

from reconciler.errors import ProviderError
from reconciler.providers.base import Provider
from reconciler.providers.capabilities import CAPABILITIES
from reconciler.secret import Secret

if TYPE_CHECKING:
    import httpx

    from reconciler.providers.http import ApiClient, RateLimiter, RetryPolicy

__all__ = ["Provider", "close_all", "open_provider"]

# provider name -> (module, class)
_ADAPTERS: dict[str, tuple[str, str]] = {
    "ingate": ("reconciler.providers.ingate", "IngateProvider"),
    "infraaudit": ("reconciler.providers.infraaudit", "InfraAuditProvider"),
    "keeptrusts": ("reconciler.providers.keeptrusts", "KeeptrustsProvider"),
    "immuta": ("reconciler.providers.immuta", "ImmutaProvider"),
    "encrata": ("reconciler.providers.encrata", "EncrataProvider"),
}


class _AdapterClass(Protocol):
    forbidden_hint: str

    def __call__(self, api: ApiClient) -> Provider: ...


_lock = threading.Lock()
_clients: dict[str, httpx.Client] = {}  # one connection pool per provider, shared by its orgs
_limiters: dict[tuple[str, Secret], RateLimiter] = {}  # a documented limit is per API key


def open_provider(
    name: str,
    base_url: str,
    token: Secret,
    *,
    read_only: bool,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
) -> Provider:
    """The adapter of provider `name` for one org. `read_only=True` refuses every write before it is sent
    (plan, drift, validate, import). Safe to call from many threads."""
    from reconciler.providers.http import ApiClient, default_timeout

    adapter = _adapter_class(name)
    with _lock:
        http = _clients.get(name)
        if http is None:
            http = _clients[name] = _new_client()
        limiter = _limiter(name, token)
    api = ApiClient(
        http,
        base_url,
        token,
        read_only=read_only,
        limiter=limiter,
        retry=retry,
        timeout=default_timeout(timeout),
        provider=name,
        forbidden_hint=adapter.forbidden_hint,
    )
    return adapter(api)


def close_all() -> None:
    """Close every shared connection pool (end of a run, or between tests)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
        _limiters.clear()
    for client in clients:
        client.close()


def _adapter_class(name: str) -> _AdapterClass:
    try:
        module_name, class_name = _ADAPTERS[name]
    except KeyError:
        raise ProviderError(f"unknown provider {name!r} (known: {', '.join(_ADAPTERS)})") from None
    cls: _AdapterClass = getattr(importlib.import_module(module_name), class_name)
    return cls


def _new_client() -> httpx.Client:
    import httpx

    # Orgs of one provider are served from a thread pool (default 8 threads): keep that many connections.
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.Client(limits=limits, follow_redirects=False)


def _limiter(name: str, token: Secret) -> RateLimiter | None:
    """Caller holds _lock."""
    per_minute = CAPABILITIES[name].requests_per_minute
    if per_minute is None:
        return None
    from reconciler.providers.http import RateLimiter

    key = (name, token)
    limiter = _limiters.get(key)
    if limiter is None:
        limiter = _limiters[key] = RateLimiter(per_minute)
    return limiter
