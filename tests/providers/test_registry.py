"""open_provider(): the right adapter, one connection pool per provider, one limiter per API key."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from reconciler.core.errors import ProviderError, ReadOnlyViolation
from reconciler.core.model import DesiredWebhook
from reconciler.core.secret import Secret
from reconciler.plugins import CAPABILITIES, open_provider
from reconciler.providers import close_all
from reconciler.providers.translate import Adapter
from reconciler.sandbox import Sandbox
from tests.providers.conftest import Opener


def adapter(name: str, token: str = "t1", base: str = "https://api.example") -> Adapter:
    return cast(Adapter, open_provider(name, base, Secret(token), read_only=True))


@pytest.fixture(autouse=True)
def _fresh_registry() -> None:
    close_all()


@pytest.mark.parametrize("name", list(CAPABILITIES))
def test_each_name_opens_its_adapter(name: str) -> None:
    provider = open_provider(name, "https://api.example", Secret("t"), read_only=True)
    assert provider.capabilities is CAPABILITIES[name]


def test_unknown_provider() -> None:
    with pytest.raises(ProviderError, match="unknown provider 'github'"):
        open_provider("github", "https://api.example", Secret("t"), read_only=True)


def test_one_client_per_provider_and_one_limiter_per_token() -> None:
    # The sharing is the point of the registry, so these tests look at the adapters' insides.
    a, b, c = adapter("encrata", "t1"), adapter("encrata", "t1", "https://other.example"), adapter("encrata", "t2")
    assert a.api._http is b.api._http is c.api._http
    assert a.api._limiter is b.api._limiter is not None
    assert c.api._limiter is not a.api._limiter
    assert adapter("ingate").api._http is not a.api._http
    unlimited = adapter("ingate").api._limiter
    assert unlimited is not None and unlimited.capacity is None  # no documented limit; an announced one may come


def test_plain_http_pools_are_apart_and_https_pools_share_one_tls_context() -> None:
    # Loading the CA bundle costs about 25 ms: once per run, and never for plain-http base URLs.
    plain = adapter("ingate", base="http://127.0.0.1:1").api._http
    tls_a, tls_b = adapter("ingate").api._http, adapter("encrata").api._http
    assert plain is not tls_a
    assert tls_a._transport._pool._ssl_context is tls_b._transport._pool._ssl_context  # type: ignore[attr-defined]


def test_parallel_opens_share_one_client() -> None:
    with ThreadPoolExecutor(8) as pool:
        opened = list(pool.map(lambda _: adapter("keeptrusts"), range(32)))
    assert len({id(p.api._http) for p in opened}) == 1


def test_close_all_closes_and_forgets() -> None:
    first = adapter("ingate")
    close_all()
    assert first.api._http.is_closed
    assert adapter("ingate").api._http is not first.api._http


def test_read_only_is_passed_through() -> None:
    provider = open_provider("ingate", "https://api.example", Secret("t"), read_only=True)
    with pytest.raises(ReadOnlyViolation):
        provider.delete("x")


def test_importing_the_registry_does_not_import_httpx() -> None:
    code = "import sys, reconciler.providers; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_orgs_in_parallel_threads_over_one_client(sandbox: Sandbox, opener: Opener) -> None:
    accounts = [f"org-{n}" for n in range(8)]

    def work(account: str) -> int:
        api = opener("ingate", account=account)
        for n in range(3):
            api.create(_hook(n), None)
        return len(api.list())

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, accounts)) == [3] * 8
    assert all(len(sandbox.webhooks("ingate", a)) == 3 for a in accounts)


def _hook(n: int) -> DesiredWebhook:
    return DesiredWebhook(f"h{n}", f"https://hooks.example/{n}")
