"""Retries over real HTTP: the waits servers ask for, 5xx on idempotent calls only, a committed-then-failed
create never duplicated, and Encrata's 30 requests/minute kept on an injected clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from reconciler.core.errors import ProviderError
from reconciler.core.secret import Secret
from reconciler.plugins import CAPABILITIES
from reconciler.providers.encrata import EncrataProvider
from reconciler.providers.http import ApiClient, RateLimiter, RetryPolicy
from reconciler.sandbox import Faults, Sandbox
from tests.e2e.world import World
from tests.reliability.harness import PROVIDERS, OrgSpec, assert_converged

TOKEN = "sandbox-token"


class Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next (status, headers) of the server's script; the last repeats."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        server: Any = self.server
        server.seen.append(self.command)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        body = b"{}"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def scripted() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.daemon_threads = True
    server.seen, server.script = [], [(200, {})]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(base_url: str, slept: list[float], limiter: RateLimiter | None = None) -> ApiClient:
    retry = RetryPolicy(sleep=slept.append, jitter=lambda: 0.5)
    return ApiClient(httpx.Client(), base_url, Secret(TOKEN), read_only=False, retry=retry, limiter=limiter)


def test_retry_after_seconds_is_honoured(scripted: Any) -> None:
    scripted.script = [(429, {"Retry-After": "3"}), (200, {})]
    slept: list[float] = []
    client(f"http://127.0.0.1:{scripted.server_port}", slept).request("POST", "/hooks", json={})
    assert slept == [3.0] and scripted.seen == ["POST", "POST"]  # a 429 was not processed: safe to repeat


def test_retry_after_http_date_is_honoured(scripted: Any) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    scripted.script = [(429, {"Retry-After": format_datetime(when, usegmt=True)}), (200, {})]
    slept: list[float] = []
    client(f"http://127.0.0.1:{scripted.server_port}", slept).request("GET", "/hooks")
    assert len(slept) == 1 and 25 <= slept[0] <= 30


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_5xx_is_retried_for_idempotent_calls(scripted: Any, method: str) -> None:
    scripted.script = [(503, {}), (502, {}), (200, {})]
    slept: list[float] = []
    client(f"http://127.0.0.1:{scripted.server_port}", slept).request(method, "/hooks/1")
    assert scripted.seen == [method] * 3 and len(slept) == 2


def test_5xx_on_a_create_is_never_repeated(scripted: Any) -> None:
    scripted.script = [(500, {}), (200, {})]
    with pytest.raises(ProviderError) as caught:
        client(f"http://127.0.0.1:{scripted.server_port}", []).request("POST", "/hooks", json={})
    assert caught.value.outcome_unknown and scripted.seen == ["POST"]


def test_infraaudit_body_retry_after_is_honoured(sandbox: Sandbox) -> None:
    sandbox.set_faults(Faults(rate_limit_every=1, retry_after_s=4), provider="infraaudit")
    slept: list[float] = []
    api = client(sandbox.base_url("infraaudit"), slept)
    with pytest.raises(ProviderError):  # every request is limited: the attempts run out
        api.request("GET", "/api/v1/webhooks")
    assert slept and all(wait == 4.0 for wait in slept)  # the body's retryAfter, no header


def first_roll_only(rate: float, draws: int) -> int:
    """A seed whose first fault roll strikes and the next `draws` do not (FaultDice draws in this order)."""
    for seed in range(10_000):
        rng = random.Random(seed)
        rolls = [rng.random() for _ in range(draws + 1)]
        if rolls[0] < rate and all(r >= rate for r in rolls[1:]):
            return seed
    raise AssertionError("no such seed")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_create_committed_then_failed_is_never_duplicated(world: World, provider: str) -> None:
    org = OrgSpec(f"acme-{provider}", provider, True, ({"name": "h", "url": f"https://hooks.acme.example/{provider}/h/v1"},))
    path = str(world.write([world.org(org.name, provider, [dict(h) for h in org.hooks])]))
    seed = first_roll_only(0.5, draws=6)
    world.sandbox.set_faults(Faults(commit_then_fail_rate=0.5, seed=seed, encrata_rate_limit=None))
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 0, result.text
    assert "create outcome was unknown" in result.err
    assert len(world.live(provider, org.name)) == 1
    assert_converged(world, [org], path)


class Unannounced(RateLimiter):
    """As with an API that announces no budget (the sandbox's Encrata always does, contract §7.1 lets it rule)."""

    def announce(self, headers: Mapping[str, str]) -> None:
        return None


def test_encrata_rate_limiter_keeps_under_30_a_minute(sandbox: Sandbox) -> None:
    """Without an announced budget, the documented limit is the default."""
    sandbox.set_faults(Faults(encrata_rate_limit=None))  # the window is checked on the injected clock
    now = [0.0]
    sent: list[float] = []
    per_minute = CAPABILITIES["encrata"].requests_per_minute
    assert per_minute == 30

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def clock() -> float:
        return now[0]

    limiter = Unannounced(per_minute, clock=clock, sleep=sleep)
    provider = EncrataProvider(client(sandbox.base_url("encrata"), [], limiter))
    for i in range(100):
        provider.list()
        sent.append(now[0])
        now[0] += 0.1 * (i % 3)  # callers arrive unevenly
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60) <= 30
    assert sent[-1] >= 180  # 100 requests need more than three minutes


def test_a_failed_apply_that_may_have_changed_something_says_so(world: World) -> None:
    """Every Keeptrusts write commits, then answers 500: the create happened, and so did each rotation meant to
    recover its secret, unseen. Exit 1, but never "nothing changed"; a re-run without faults converges."""
    org = OrgSpec("acme-keeptrusts", "keeptrusts", True, ({"name": "h", "url": "https://hooks.acme.example/keeptrusts/h/v1"},))
    path = str(world.write([world.org(org.name, "keeptrusts", [dict(h) for h in org.hooks])]))
    world.sandbox.set_faults(Faults(commit_then_fail_rate=1.0, encrata_rate_limit=None))
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1, result.text
    assert "nothing changed" not in result.text
    assert "Apply failed; a failed change may have taken effect (a re-run converges)" in result.out
    assert len(world.live("keeptrusts", org.name)) == 1
    world.sandbox.set_faults(Faults(encrata_rate_limit=None))
    assert world.run("apply", path, "--auto-approve").code == 0
    assert_converged(world, [org], path)
