"""Every adapter against its emulator over real loopback HTTP: the calls all five share.

Runs each provider in its reference shape and in the vendor variants the sandbox serves."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.core.errors import ProviderError, ReadOnlyViolation
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.sandbox import Sandbox
from reconciler.sandbox.registry import SPECS
from tests.providers.conftest import Opener

# provider -> (webhook as created, the same webhook as updated)
CASES: dict[str, tuple[DesiredWebhook, DesiredWebhook]] = {
    "ingate": (
        DesiredWebhook("finance", "https://hooks.example/ingate/1", frozenset({"budget.warning"})),
        DesiredWebhook("finance", "https://hooks.example/ingate/2", None, active=False),
    ),
    "infraaudit": (
        DesiredWebhook("finance", "https://hooks.example/ia/1", frozenset({"drift.detected"})),
        DesiredWebhook("finance", "https://hooks.example/ia/2", frozenset({"ping", "alert.created"}), active=False),
    ),
    "keeptrusts": (
        DesiredWebhook("finance", "https://hooks.example/kt/1", None),
        DesiredWebhook("finance", "https://hooks.example/kt/2", frozenset({"event.created"}), active=False),
    ),
    "immuta": (
        DesiredWebhook("finance", "http://hooks.internal/im/1", verify_tls=False),
        DesiredWebhook("finance", "https://hooks.example/im/2", verify_tls=True),
    ),
    "encrata": (
        DesiredWebhook("finance", "https://hooks.example/en/1", frozenset({"credits.low"}), description="Prod"),
        DesiredWebhook("finance", "https://hooks.example/en/2", None, active=False),
    ),
}
SHAPES = [
    ("ingate", "reference"),
    ("infraaudit", "reference"),
    ("infraaudit", "vendor"),
    ("keeptrusts", "reference"),
    ("immuta", "reference"),
    ("encrata", "reference"),
    ("encrata", "sdk"),
]


def expected(provider: str, live_id: str, hook: DesiredWebhook) -> LiveWebhook:
    """What the adapter must report for `hook`, normalised as the model says. The API's facts come from the
    emulator's own copy, not the product's table, so a wrong fact in the product cannot check itself."""
    facts = SPECS[provider].facts
    events = hook.events
    if events is None and facts.min_events > 0 and facts.events is not None:
        events = facts.events  # "all" was sent as the whole catalog
    return LiveWebhook(
        id=live_id,
        url=hook.url,
        events=events,
        active=hook.active,
        label=hook.name if facts.label_field else None,
        description=hook.description if facts.description_field else None,
        verify_tls=hook.verify_tls if "verifyTls" in facts.extra_fields else None,
    )


def comparable(live: LiveWebhook) -> LiveWebhook:
    return dataclasses.replace(live, created_at=None, last_delivery_status=None)


def client_secret(provider: str) -> Secret | None:
    return None if SPECS[provider].facts.issues_secret else Secret.generate()


def stored_secret(sandbox: Sandbox, provider: str, webhook_id: str) -> str:
    [stored] = [h for h in sandbox.webhooks(provider) if str(h["id"]) == webhook_id]
    return str(stored["signingKey" if provider == "immuta" else "secret"])


@pytest.mark.parametrize(("provider", "variant"), SHAPES)
def test_lifecycle(sandbox: Sandbox, opener: Opener, provider: str, variant: str) -> None:
    sandbox.set_variant(provider, variant)
    api = opener(provider)
    created, updated = CASES[provider]
    assert api.list() == []

    live, secret = api.create(created, client_secret(provider))
    assert comparable(live) == expected(provider, live.id, created)
    assert secret.reveal() == stored_secret(sandbox, provider, live.id)

    [listed] = api.list()
    assert comparable(listed) == expected(provider, live.id, created)
    assert listed.created_at is not None or provider == "immuta"  # Immuta's object has no timestamp
    assert api.get(live.id) == listed
    assert api.get("0b9e2b8e-0000-4000-8000-000000000000") is None

    after = api.update(listed, updated)
    assert comparable(after) == expected(provider, live.id, updated)
    assert comparable(api.get(live.id) or listed) == comparable(after)
    assert stored_secret(sandbox, provider, live.id) == secret.reveal()  # an update keeps the secret

    api.delete(live.id)
    assert api.list() == []
    api.delete(live.id)  # already gone: a 404, which counts as success


@pytest.mark.parametrize("provider", list(CASES))
def test_list_is_one_request(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    api = opener(provider)
    for n in range(3):
        hook = dataclasses.replace(CASES[provider][0], name=f"h{n}", url=f"https://hooks.example/{provider}/{n}")
        api.create(hook, client_secret(provider))
    sandbox.clear_requests()
    assert len(api.list()) == 3
    assert [(r.method, r.status) for r in sandbox.requests] == [("GET", 200)]


@pytest.mark.parametrize("provider", list(CASES))
def test_read_only_sends_no_write(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    api = opener(provider, read_only=True)
    assert api.list() == []
    sandbox.clear_requests()
    with pytest.raises(ReadOnlyViolation):
        api.create(CASES[provider][0], client_secret(provider))
    with pytest.raises(ReadOnlyViolation):
        api.delete("any")
    assert sandbox.requests == []


@pytest.mark.parametrize("provider", list(CASES))
def test_401_rejected_token(opener: Opener, provider: str) -> None:
    with pytest.raises(ProviderError) as info:
        opener(provider, token="not-a-token").list()
    assert info.value.status == 401
    assert "the API token was rejected" in str(info.value)
    assert "not-a-token" not in str(info.value)


HINTS = {
    "ingate": "Enterprise plan and the admin role",
    "infraaudit": "role",
    "keeptrusts": "webhooks:write",
    "immuta": "APPLICATION_ADMIN",
    "encrata": "role",
}


@pytest.mark.parametrize("provider", list(CASES))
def test_403_token_without_the_role(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    sandbox.add_token("viewer-token", role="readonly")
    api = opener(provider, token="viewer-token")
    if provider in ("ingate", "immuta"):  # the role is needed for the whole API, reads too
        with pytest.raises(ProviderError) as listing:
            api.list()
        assert listing.value.status == 403 and HINTS[provider] in str(listing.value)
    else:
        assert api.list() == []
    with pytest.raises(ProviderError) as info:
        api.create(CASES[provider][0], client_secret(provider))
    assert info.value.status == 403 and not info.value.outcome_unknown
    assert HINTS[provider] in str(info.value)
    assert "hooks.example" not in str(info.value) and "hooks.internal" not in str(info.value)
    assert sandbox.webhooks(provider) == []


@pytest.mark.parametrize("provider", ["ingate", "infraaudit", "keeptrusts", "encrata"])
def test_404_unknown_id_on_update(opener: Opener, provider: str) -> None:
    gone = LiveWebhook(id="0b9e2b8e-0000-4000-8000-000000000000", url="https://hooks.example/x")
    with pytest.raises(ProviderError) as info:
        opener(provider).update(gone, CASES[provider][1])
    assert info.value.status == 404


@pytest.mark.parametrize("provider", list(CASES))
def test_accounts_under_a_path_prefix_are_separate(opener: Opener, provider: str) -> None:
    team = opener(provider, account="team-a")
    live, _ = team.create(CASES[provider][0], client_secret(provider))
    assert [w.id for w in team.list()] == [live.id]
    assert opener(provider).list() == []


@pytest.mark.parametrize("provider", list(CASES))
def test_validation_errors_carry_the_vendor_message_but_not_the_url(opener: Opener, provider: str) -> None:
    bad = DesiredWebhook("finance", "ftp://user:pw@hooks.example/x", frozenset() if provider != "immuta" else None)
    with pytest.raises(ProviderError) as info:
        opener(provider).create(bad, client_secret(provider))
    assert info.value.status in (400, 422)
    message = str(info.value)
    assert "url" in message and "user:pw" not in message and "ftp://" not in message


@pytest.mark.parametrize(
    ("provider", "active_after_create"),
    [("ingate", True), ("encrata", True), ("infraaudit", False), ("keeptrusts", False)],
)
def test_create_inactive_reports_what_the_api_made(opener: Opener, provider: str, active_after_create: bool) -> None:
    """Ingate and Encrata cannot create a paused webhook: the adapter reports it active, so the caller
    (after storing the secret) follows with an update."""
    api = opener(provider)
    hook = dataclasses.replace(CASES[provider][0], active=False)
    live, _ = api.create(hook, None)
    assert live.active is active_after_create
    assert [w.active for w in api.list()] == [active_after_create]
    assert api.update(live, hook).active is False
