"""The HTTP layer against the emulators' injected faults: rate limits, 5xx, writes of unknown outcome."""

from __future__ import annotations

import pytest

from reconciler.core.errors import ProviderError
from reconciler.sandbox import Faults, Sandbox
from tests.providers.conftest import Opener
from tests.providers.test_contract import CASES, client_secret


@pytest.mark.parametrize("provider", ["infraaudit", "encrata", "ingate"])
def test_429_is_retried_after_the_announced_wait(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    # InfraAudit announces the wait in the body only, the others in Retry-After.
    sandbox.set_faults(Faults(rate_limit_every=2, retry_after_s=3), provider)
    api = opener(provider)
    assert api.list() == []  # request 1
    live, _ = api.create(CASES[provider][0], client_secret(provider))  # request 2 is a 429, 3 succeeds
    assert opener.sleeps == [3.0]
    assert [w.id for w in api.list()] == [live.id]
    assert [r.status for r in sandbox.requests] == [200, 429, 201, 429, 200]
    assert len(sandbox.webhooks(provider)) == 1  # the 429'd create was repeated, and made no duplicate


@pytest.mark.parametrize("provider", list(CASES))
def test_create_answered_500_after_commit_is_outcome_unknown_and_not_repeated(
    sandbox: Sandbox, opener: Opener, provider: str
) -> None:
    sandbox.set_faults(Faults(commit_then_fail_rate=1.0), provider)
    with pytest.raises(ProviderError) as info:
        opener(provider).create(CASES[provider][0], client_secret(provider))
    assert info.value.outcome_unknown and info.value.status == 500
    assert [r.method for r in sandbox.requests] == ["POST"]
    assert len(sandbox.webhooks(provider)) == 1  # it did take effect: the applier must re-list


def test_dropped_connection_on_create_is_outcome_unknown(sandbox: Sandbox, opener: Opener) -> None:
    sandbox.set_faults(Faults(drop_rate=1.0), "keeptrusts")
    with pytest.raises(ProviderError) as info:
        opener("keeptrusts").create(CASES["keeptrusts"][0], None)
    assert info.value.outcome_unknown and info.value.status is None
    assert len(sandbox.requests) == 1 and len(sandbox.webhooks("keeptrusts")) == 1


def test_503_on_reads_is_retried_up_to_the_cap(sandbox: Sandbox, opener: Opener) -> None:
    sandbox.set_faults(Faults(error_rate=1.0), "ingate")
    with pytest.raises(ProviderError) as info:
        opener("ingate", max_attempts=3).list()
    assert info.value.status == 503 and not info.value.outcome_unknown
    assert len(sandbox.requests) == 3 and opener.sleeps == [0.25, 0.5]


def test_idempotent_update_is_retried_through_a_5xx(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("ingate")
    live, _ = api.create(CASES["ingate"][0], None)
    sandbox.set_faults(Faults(commit_then_fail_rate=1.0), "ingate")
    with pytest.raises(ProviderError) as info:
        api.update(live, CASES["ingate"][1])
    # Every attempt applied and then failed: PUT is idempotent, so repeating was safe.
    assert info.value.outcome_unknown
    assert [r.method for r in sandbox.requests][-4:] == ["PUT"] * 4
    assert sandbox.webhooks("ingate")[0]["url"] == CASES["ingate"][1].url
