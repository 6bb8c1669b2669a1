"""Provider connections: `connect()` binds an adapter class to one org's base URL and token, over one
shared connection pool per provider and one rate limiter per API key.

httpx and the adapters are imported on first use, so that `validate` (no network) starts fast.
"""

from __future__ import annotations

import ssl
import sys
import threading
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Any, Protocol

from reconciler.core.capabilities import Capabilities
from reconciler.core.secret import Secret
from reconciler.providers.base import Provider

if TYPE_CHECKING:
    import httpx

    from reconciler.providers.http import ApiClient, RateLimiter, RetryPolicy

__all__ = ["AdapterClass", "Provider", "close_all", "connect"]

class AdapterClass(Protocol):
    """What a provider plugin's `adapter` names."""

    forbidden_hint: str

    def __call__(self, api: ApiClient) -> Provider: ...


# httpx imports its optional command-line client (click, pygments: about 20 ms) whenever it is installed;
# it is never used here. A None entry makes httpx fall back to its stub, as without the `cli` extra.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

_lock = threading.Lock()
_clients: dict[tuple[str, bool], httpx.Client] = {}  # (provider, https): one pool each, shared by orgs
_tls: ssl.SSLContext | None = None  # the trust store, loaded once and only when an https API is used
_limiters: dict[tuple[str, Secret], RateLimiter] = {}  # a limit, documented or announced, is per API key


def connect(
    adapter: AdapterClass,
    caps: Capabilities,
    base_url: str,
    token: Secret,
    *,
    read_only: bool,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    deadline: float | None = None,
) -> Provider:
    """`adapter` bound to one org's account. `read_only=True` refuses every write before it is sent
    (plan, drift, validate, import). Safe to call from many threads."""
    from reconciler.providers import bounds
    from reconciler.providers.http import ApiClient, default_timeout

    name = caps.name
    key = (name, not base_url.lower().startswith("http://"))
    with _lock:
        http = _clients.get(key)
        if http is None:
            http = _clients[key] = _new_client(https=key[1])
        limiter = _limiter(caps, token)
    api = ApiClient(
        http,
        base_url,
        token,
        read_only=read_only,
        limiter=limiter,
        retry=retry,
        timeout=default_timeout(timeout),
        deadline=bounds.REQUEST_DEADLINE if deadline is None else deadline,
        provider=name,
        forbidden_hint=adapter.forbidden_hint,
    )
    return adapter(api)


def close_all() -> None:
    """Close every shared connection pool (end of a run, or between tests)."""
    global _tls
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
        _limiters.clear()
        _tls = None  # the next run reads the trust store (and SSL_CERT_FILE) afresh
    for client in clients:
        client.close()


def _new_client(*, https: bool) -> httpx.Client:
    """Caller holds _lock."""
    global _tls
    import httpx

    if https:
        # Loading the CA bundle takes about 25 ms: once per run, not once per provider.
        if _tls is None:
            _tls = httpx.create_ssl_context()
        tls = _tls
    else:
        # This pool only ever sees http:// URLs (redirects are not followed), so it never does TLS; a
        # context without trust roots (which would refuse any certificate) spares loading the CA bundle.
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Orgs of one provider are served from a thread pool (default 8 threads): keep that many connections.
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    # No cookie jar: the pool is shared by every org of a provider, and one org's cookies must never be
    # sent with another's requests (the APIs authenticate with tokens and need none); parsing them costs.
    client = httpx.Client(limits=limits, follow_redirects=False, verify=tls, cookies=_NoCookies())
    from reconciler.providers import bounds

    return bounds.install(client)  # a deadline and interrupts seen by every read (providers/bounds.py)


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing and sends nothing."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


def _limiter(caps: Capabilities, token: Secret) -> RateLimiter:
    """Caller holds _lock. Every API key has one, documented limit or not: an API may announce its own."""
    per_minute = caps.requests_per_minute
    from reconciler.providers.http import RateLimiter

    key = (caps.name, token)
    limiter = _limiters.get(key)
    if limiter is None:
        limiter = _limiters[key] = RateLimiter(per_minute)
    return limiter
