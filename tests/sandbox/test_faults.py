"""Injected faults: latency, 5xx, 429 in each provider's style, commit-then-fail, dropped connections."""

from __future__ import annotations

import time

import httpx
import pytest

from reconciler.sandbox import Faults, Sandbox
from reconciler.sandbox.registry import SPECS
from tests.sandbox.helpers import CREATE_BODY, api


def test_latency(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Faults(latency_ms=150), provider="ingate")
    started = time.perf_counter()
    client.get(api(sandbox, "ingate"))
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    client.get(api(sandbox, "keeptrusts"))  # other providers are untouched
    assert time.perf_counter() - started < 0.15


@pytest.mark.parametrize("provider", list(SPECS))
def test_error_rate_answers_503_without_applying(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    sandbox.set_faults(Faults(error_rate=1.0))
    r = client.post(api(sandbox, provider), json=CREATE_BODY[provider])
    assert r.status_code == 503
    assert sandbox.webhooks(provider) == []


@pytest.mark.parametrize("provider", ["ingate", "keeptrusts", "immuta", "encrata"])
def test_injected_429_carries_retry_after_header(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    sandbox.set_faults(Faults(rate_limit_every=3, retry_after_s=2, encrata_rate_limit=None))
    statuses = [client.get(api(sandbox, provider)) for _ in range(6)]
    assert [r.status_code for r in statuses] == [200, 200, 429, 200, 200, 429]
    assert statuses[2].headers["retry-after"] == "2"


def test_infraaudit_429_has_the_wait_in_the_body_only(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Faults(rate_limit_every=1, retry_after_s=1), provider="infraaudit")
    r = client.get(api(sandbox, "infraaudit"))
    assert r.status_code == 429
    assert r.json() == {"error": "rate limit exceeded", "retryAfter": 1}
    assert "retry-after" not in r.headers
    assert r.headers["x-ratelimit-remaining"] == "0"


@pytest.mark.parametrize("provider", list(SPECS))
def test_commit_then_fail_applies_the_write(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    sandbox.set_faults(Faults(commit_then_fail_rate=1.0), provider=provider)
    r = client.post(api(sandbox, provider), json=CREATE_BODY[provider])
    assert r.status_code == 500 and "secret" not in r.text
    assert len(sandbox.webhooks(provider)) == 1  # the outcome-unknown case: it exists
    assert client.get(api(sandbox, provider)).status_code == 200  # reads are not writes


def test_drop_applies_then_closes_without_an_answer(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Faults(drop_rate=1.0), provider="keeptrusts")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(api(sandbox, "keeptrusts"), json=CREATE_BODY["keeptrusts"])
    assert len(sandbox.webhooks("keeptrusts")) == 1
    assert sandbox.requests[-1].status == 0


def test_faults_are_deterministic_with_a_seed(sandbox: Sandbox, client: httpx.Client) -> None:
    def run(seed: int) -> list[int]:
        sandbox.set_faults(Faults(error_rate=0.5, seed=seed), provider="ingate")
        return [client.get(api(sandbox, "ingate")).status_code for _ in range(20)]

    first = run(7)
    assert first == run(7)
    assert {200, 503} == set(first)


def test_faults_are_validated() -> None:
    with pytest.raises(ValueError):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError):
        Faults(latency_ms=-1)
    with pytest.raises(ValueError):
        Faults(encrata_rate_limit=0)


def test_an_injected_429_does_not_count_against_encratas_limit(sandbox: Sandbox, client: httpx.Client) -> None:
    """Like a request the real limit refuses, a request refused by an injected 429 is not counted."""
    root = api(sandbox, "encrata")
    assert client.get(root).headers["x-ratelimit-remaining"] == "29"
    sandbox.set_faults(Faults(rate_limit_every=1, retry_after_s=1), provider="encrata")
    assert client.get(root).status_code == 429
    sandbox.set_faults(Faults(), provider="encrata")
    assert client.get(root).headers["x-ratelimit-remaining"] == "28"
