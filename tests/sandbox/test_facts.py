"""Each emulator's facts (wire.ApiFacts) are what it serves: the field names its reads show, who makes the
secret, which calls exist. tests/test_emulator_facts.py then holds these facts against the product's table."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import Sandbox
from reconciler.sandbox.registry import SPECS
from tests.sandbox.helpers import CREATE_BODY, api, post_create

ACTIVE_FLAGS = {"active", "enabled", "is_enabled", "is_active"}  # every on/off flag the five APIs use


@pytest.mark.parametrize("provider", list(SPECS))
def test_reads_show_the_fields_the_facts_name(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    facts = SPECS[provider].facts
    texts = {field: "x" for field in (facts.label_field, facts.description_field) if field}
    post_create(sandbox, client, provider, {**CREATE_BODY[provider], **texts})
    [listed] = client.get(api(sandbox, provider)).json()
    assert {k: listed[k] for k in texts} == texts
    assert ACTIVE_FLAGS & set(listed) == ({facts.active_field} if facts.active_field else set())
    assert facts.extra_fields <= set(listed)


@pytest.mark.parametrize("provider", list(SPECS))
def test_the_client_chooses_the_secret_only_where_the_facts_say(
    sandbox: Sandbox, client: httpx.Client, provider: str
) -> None:
    facts = SPECS[provider].facts
    chosen = "whsec_" + "c" * 48
    post_create(sandbox, client, provider, {**CREATE_BODY[provider], (facts.client_secret_field or "secret"): chosen})
    [stored] = sandbox.webhooks(provider)
    assert (chosen in stored.values()) is (facts.client_secret_field is not None)


@pytest.mark.parametrize("provider", list(SPECS))
def test_the_server_makes_a_secret_only_where_the_facts_say(
    sandbox: Sandbox, client: httpx.Client, provider: str
) -> None:
    body = {k: v for k, v in CREATE_BODY[provider].items() if k != SPECS[provider].facts.client_secret_field}
    created = post_create(sandbox, client, provider, body)
    assert isinstance(created.get("secret"), str) is SPECS[provider].facts.issues_secret


@pytest.mark.parametrize("provider", list(SPECS))
def test_the_test_and_delivery_calls_are_there_where_the_facts_say(provider: str) -> None:
    spec = SPECS[provider]
    last_segments = {route.pattern[-1] for route in spec.routes if route.pattern}
    assert ("test" in last_segments) is (spec.facts.test != "none")
    assert ("deliveries" in last_segments) is bool(spec.facts.delivery_statuses)
    # A secret the server made is rotated by a call of its own; a client's (Immuta) by sending a new one.
    assert ("rotate-secret" in last_segments) is (spec.facts.rotates_in_place and spec.facts.issues_secret)
