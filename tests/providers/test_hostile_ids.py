"""Ids are provider text: percent-encoded wherever they enter a request's path or query (contract §6), so no live
value can make a request reach another resource. Each case is an id a hostile or broken API could return,
served by the sandbox (which decodes percent-encoded segments as real servers do)."""

from __future__ import annotations

import pytest

from reconciler.core.errors import ProviderError
from reconciler.providers import Provider
from reconciler.providers.translate import segment
from reconciler.sandbox import Sandbox
from tests.providers.conftest import Opener
from tests.providers.test_contract import CASES, client_secret

# (hostile id, the id of the resource an unencoded request would reach instead)
HOSTILE = [
    ("x?y#z", "x"),  # unencoded: `/webhooks/x` with a query, i.e. webhook x
    ("../victim", "victim"),  # unencoded: `/webhooks/../victim`, resolved by the client to `/victim`
    ("victim/test", "victim"),  # unencoded: a sub-resource of webhook victim
    ("x&id=victim", "victim"),  # for ids in a query (Encrata): another `id` parameter
    ("%76ictim", "victim"),  # unencoded: decoded by the server to `victim`
]
PROVIDERS = ["ingate", "infraaudit", "keeptrusts", "immuta", "encrata"]


def two_webhooks(sandbox: Sandbox, api: Provider, provider: str, hostile: str, victim: str) -> None:
    """Two webhooks, re-keyed by the server to `hostile` and `victim`."""
    first, _ = api.create(CASES[provider][0], client_secret(provider))
    second, _ = api.create(CASES[provider][1], client_secret(provider))
    sandbox.patch_webhook(provider, first.id, {"id": hostile})
    sandbox.patch_webhook(provider, second.id, {"id": victim})


@pytest.mark.parametrize(("hostile", "victim"), HOSTILE)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hostile_id_reaches_only_its_own_webhook(
    sandbox: Sandbox, opener: Opener, provider: str, hostile: str, victim: str
) -> None:
    api = opener(provider)
    two_webhooks(sandbox, api, provider, hostile, victim)
    live = {w.id: w for w in api.list()}
    assert set(live) == {hostile, victim}

    found = api.get(hostile)
    assert found is not None and found.url == CASES[provider][0].url
    api.update(live[hostile], CASES[provider][0])
    api.delete(hostile)
    assert [w["id"] for w in sandbox.webhooks(provider)] == [victim]
    assert sandbox.webhooks(provider)[0]["url"] == CASES[provider][1].url


@pytest.mark.parametrize("provider", ["infraaudit", "keeptrusts", "encrata"])
def test_test_and_deliveries_of_a_hostile_id(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    api = opener(provider)
    two_webhooks(sandbox, api, provider, "x?y#z", "x")
    assert api.test("x?y#z").ok
    assert len(api.deliveries("x?y#z")) == 1
    assert api.deliveries("x") == []


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_ids_that_name_no_single_resource_are_refused(bad: str) -> None:
    """Servers resolve `.` and `..` even percent-encoded (WHATWG reads %2e as a dot): no encoding makes them safe."""
    with pytest.raises(ProviderError, match="names no single resource"):
        segment(bad)


def test_requests_carry_the_encoded_id(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("ingate")
    two_webhooks(sandbox, api, "ingate", "../victim", "victim")
    sandbox.clear_requests()
    api.delete("../victim")
    assert [r.path for r in sandbox.requests] == ["/ingate/api/v1/webhooks/..%2Fvictim"]
