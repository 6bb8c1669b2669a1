"""Each adapter against the vendor variants docs/providers.md lists, which the emulators may not serve."""

from __future__ import annotations

import json

import pytest

from reconciler.core.errors import ProviderError
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.providers.base import Provider
from reconciler.providers.encrata import EncrataProvider
from reconciler.providers.immuta import ImmutaProvider
from reconciler.providers.infraaudit import InfraAuditProvider
from reconciler.providers.ingate import IngateProvider
from reconciler.providers.keeptrusts import KeeptrustsProvider
from reconciler.sandbox import encrata, infraaudit
from tests.providers.mock_api import Script, reply

UUID = "3f0c8a52-1d2e-4c1b-9a55-0a8b2d9e6f10"


def hook(**fields: object) -> DesiredWebhook:
    return DesiredWebhook(**{"name": "finance", "url": "https://hooks.example/f", **fields})  # type: ignore[arg-type]


def test_every_adapter_satisfies_the_provider_protocol() -> None:
    api = Script().client()
    adapters: list[Provider] = [
        IngateProvider(api),
        InfraAuditProvider(api),
        KeeptrustsProvider(api),
        ImmutaProvider(api),
        EncrataProvider(api),
    ]
    assert [a.capabilities.name for a in adapters] == ["ingate", "infraaudit", "keeptrusts", "immuta", "encrata"]


# --- InfraAudit -------------------------------------------------------------------------------------------


def test_infraaudit_vendor_server_list_shape() -> None:
    item = {
        "id": UUID,
        "name": "finance",
        "url": "https://hooks.example/f",
        "events": ["drift.detected"],
        "is_enabled": False,
        "updated_at": "2026-01-01T00:00:00Z",
        "last_triggered": None,
        "last_delivery_status": "failed",
    }
    script = Script().on("GET", "/api/v1/webhooks", reply(200, {"webhooks": [item], "total": 1}))
    [live] = InfraAuditProvider(script.client()).list()
    assert live == LiveWebhook(
        id=UUID,
        url="https://hooks.example/f",
        events=frozenset({"drift.detected"}),
        active=False,
        label="finance",
        last_delivery_status="failed",
    )
    assert len(script.requests) == 1


def test_infraaudit_wrapped_list_fetches_the_remaining_pages() -> None:
    def item(n: int) -> dict[str, object]:
        return {"id": f"wh_{n}", "name": f"n{n}", "url": f"https://h/{n}", "events": ["ping"]}

    script = Script().on(
        "GET",
        "/api/v1/webhooks",
        reply(200, {"webhooks": [item(1), item(2)], "total": 3}),
        reply(200, {"webhooks": [item(3)], "total": 3}),
    )
    lives = InfraAuditProvider(script.client()).list()
    assert [w.id for w in lives] == ["wh_1", "wh_2", "wh_3"]
    assert dict(script.requests[1].url.params) == {"page": "2", "per_page": "2"}


def test_infraaudit_list_that_ignores_paging_is_an_error_not_a_short_list() -> None:
    first = {"webhooks": [{"id": "wh_1", "url": "https://h/1", "events": ["ping"]}], "total": 2}
    script = Script().on("GET", "/api/v1/webhooks", reply(200, first))
    with pytest.raises(ProviderError, match="incomplete: got 1 of 2"):
        InfraAuditProvider(script.client()).list()


def test_infraaudit_create_sends_catalog_for_all_events_and_keeps_sent_enabled() -> None:
    catalog = sorted(infraaudit.EVENTS)  # the vendor's catalog, as the emulator keeps it
    created = {
        "id": "wh_abc",
        "name": "finance",
        "url": "https://hooks.example/f",
        "events": catalog,
        "secret": "whsec_1",
    }
    script = Script().on("POST", "/api/v1/webhooks", reply(201, created))
    live, secret = InfraAuditProvider(script.client()).create(hook(active=False), None)
    [body] = script.bodies()
    assert body == {
        "name": "finance",
        "url": "https://hooks.example/f",
        "events": catalog,
        "enabled": False,
        "is_enabled": False,
    }
    assert secret == Secret("whsec_1")
    assert live.active is False and live.label == "finance" and live.id == "wh_abc"


def test_infraaudit_create_without_secret_in_response_names_the_webhook() -> None:
    script = Script().on("POST", "/api/v1/webhooks", reply(201, {"id": "wh_9", "url": "https://h/x"}))
    with pytest.raises(ProviderError, match="'wh_9' carried no signing secret"):
        InfraAuditProvider(script.client()).create(hook(events=frozenset({"ping"})), None)


def test_infraaudit_update_tolerates_is_enabled_in_the_response() -> None:
    before = LiveWebhook(id="wh_1", url="https://old", events=frozenset({"ping"}), label="finance")
    answer = {
        "id": "wh_1",
        "name": "finance",
        "url": "https://hooks.example/f",
        "events": ["ping"],
        "is_enabled": False,
    }
    script = Script().on("PUT", "/api/v1/webhooks/wh_1", reply(200, answer))
    after = InfraAuditProvider(script.client()).update(before, hook(events=frozenset({"ping"}), active=False))
    assert after.active is False and after.url == "https://hooks.example/f"


def test_infraaudit_delete_answered_200_with_json_and_404_both_succeed() -> None:
    script = (
        Script()
        .on("DELETE", "/api/v1/webhooks/wh_1", reply(200, {"message": "webhook deleted"}))
        .on("DELETE", "/api/v1/webhooks/wh_2", reply(404, {"success": False, "error": "not found"}))
    )
    provider = InfraAuditProvider(script.client())
    provider.delete("wh_1")
    provider.delete("wh_2")


def test_infraaudit_success_false_error_body_reaches_the_message() -> None:
    script = Script().on("GET", "/api/v1/webhooks", reply(403, {"success": False, "error": "viewer role"}))
    with pytest.raises(ProviderError, match=r"403: the API token lacks the permission needed .*: viewer role"):
        InfraAuditProvider(script.client()).list()


def test_infraaudit_deliveries_collect_pages_up_to_the_last_100() -> None:
    def page(start: int, count: int) -> list[dict[str, object]]:
        return [
            {"id": f"del_{n}", "event": "ping", "status": "failed", "response_status": 500, "created_at": "t"}
            for n in range(start, start + count)
        ]

    script = Script().on("GET", "/api/v1/webhooks/wh_1/deliveries", reply(200, page(0, 50)), reply(200, page(50, 50)))
    found = InfraAuditProvider(script.client()).deliveries("wh_1")
    assert len(found) == 100 and len(script.requests) == 2
    assert found[0].status == "failed" and found[0].response_status == 500
    assert [dict(r.url.params) for r in script.requests] == [
        {"page": "1", "per_page": "50"},
        {"page": "2", "per_page": "50"},
    ]


def test_infraaudit_deliveries_end_at_a_page_with_nothing_new() -> None:
    # A short first page may be the server's own page size: one more page (here the same again) tells.
    script = Script().on("GET", "/api/v1/webhooks/wh_1/deliveries", reply(200, [{"id": "del_1", "status": "success"}]))
    [only] = InfraAuditProvider(script.client()).deliveries("wh_1")
    assert only.status == "success" and len(script.requests) == 2


def test_infraaudit_deliveries_end_at_a_page_shorter_than_the_one_before() -> None:
    def page(start: int, count: int) -> list[dict[str, object]]:
        return [{"id": f"del_{n}", "status": "success"} for n in range(start, start + count)]

    script = Script().on(
        "GET", "/api/v1/webhooks/wh_1/deliveries", reply(200, page(0, 20)), reply(200, page(20, 7)), reply(200, [])
    )
    assert len(InfraAuditProvider(script.client()).deliveries("wh_1")) == 27
    assert len(script.requests) == 2


def test_infraaudit_test_result() -> None:
    answer = {"status": "failed", "response_status": 502, "error": "bad gateway"}
    script = Script().on("POST", "/api/v1/webhooks/wh_1/test", reply(200, answer))
    result = InfraAuditProvider(script.client()).test("wh_1")
    assert (result.ok, result.status_code, result.message, result.all_webhooks) == (False, 502, "bad gateway", False)


# --- Encrata ----------------------------------------------------------------------------------------------


def test_encrata_wrapped_list_and_description() -> None:
    item = {"id": UUID, "url": "https://h/e", "events": ["credits.low"], "is_active": True, "description": "Prod"}
    script = Script().on("GET", "/api/webhooks", reply(200, {"webhooks": [item]}))
    [live] = EncrataProvider(script.client()).list()
    assert live.description == "Prod" and live.events == frozenset({"credits.low"})


def test_encrata_get_puts_the_id_in_the_query_and_404_is_none() -> None:
    item = {"id": UUID, "url": "https://h/e", "events": ["credits.low"]}
    script = Script().on("GET", "/api/webhooks", reply(200, item), reply(404, {"error": "not found"}))
    provider = EncrataProvider(script.client())
    assert provider.get(UUID) is not None
    assert provider.get("nope") is None
    assert [(r.url.path, dict(r.url.params)) for r in script.requests] == [
        ("/prefix/api/webhooks", {"id": UUID}),
        ("/prefix/api/webhooks", {"id": "nope"}),
    ]


def test_encrata_get_answered_with_a_list_picks_the_item() -> None:
    items = [{"id": "a", "url": "https://h/a", "events": ["credits.low"]}, {"id": "b", "url": "https://h/b"}]
    script = Script().on("GET", "/api/webhooks", reply(200, items))
    provider = EncrataProvider(script.client())
    found = provider.get("b")
    assert found is not None and found.url == "https://h/b"
    assert provider.get("c") is None


def test_encrata_create_sends_allow_list_for_all_events() -> None:
    created = {
        "id": UUID,
        "url": "https://hooks.example/f",
        "events": sorted(encrata.EVENTS),
        "secret": "whsec_" + "a" * 64,
    }
    script = Script().on("POST", "/api/webhooks", reply(201, {**created, "is_active": True}))
    live, secret = EncrataProvider(script.client()).create(hook(description="Prod"), None)
    assert script.bodies()[0] == {
        "url": "https://hooks.example/f",
        "events": sorted(encrata.EVENTS),
        "is_active": True,
        "description": "Prod",
    }
    assert secret.reveal() == "whsec_" + "a" * 64 and live.description == "Prod"


def test_encrata_update_sends_the_full_object_and_builds_the_result_from_it() -> None:
    before = LiveWebhook(
        id=UUID, url="https://old", events=frozenset({"credits.low"}), description="x", created_at="t0"
    )
    script = Script().on("PUT", "/api/webhooks", reply(200, {"status": "updated"}))
    after = EncrataProvider(script.client()).update(before, hook(events=frozenset({"apikey.created"}), active=False))
    assert script.bodies() == [
        {
            "id": UUID,
            "url": "https://hooks.example/f",
            "events": ["apikey.created"],
            "description": "",
            "is_active": False,
        }
    ]
    assert after == LiveWebhook(
        id=UUID, url="https://hooks.example/f", events=frozenset({"apikey.created"}), active=False, created_at="t0"
    )
    assert len(script.requests) == 1


@pytest.mark.parametrize("answer", [reply(204), reply(200, {"status": "deleted"}), reply(404, {"error": "gone"})])
def test_encrata_delete_sends_the_id_in_the_body(answer: object) -> None:
    script = Script().on("DELETE", "/api/webhooks", answer)  # type: ignore[arg-type]
    EncrataProvider(script.client()).delete(UUID)
    assert script.bodies() == [{"id": UUID}] and not script.requests[0].url.query


def test_encrata_test_and_wrapped_deliveries() -> None:
    delivery = {
        "id": "d1",
        "webhook_id": UUID,
        "event_type": "credits.low",
        "status": "pending",
        "response_status": None,
    }
    script = (
        Script()
        .on("POST", "/api/webhooks/test", reply(200, {"status": "sent", "url": "https://h", "signature": "ab"}))
        .on("GET", "/api/webhooks/deliveries", reply(200, {"deliveries": [delivery]}))
    )
    provider = EncrataProvider(script.client())
    assert provider.test(UUID).ok
    [found] = provider.deliveries(UUID)
    assert (found.event, found.status, found.response_status) == ("credits.low", "pending", None)
    assert script.bodies()[0] == {"id": UUID}
    assert dict(script.requests[1].url.params) == {"webhook_id": UUID}


# --- Keeptrusts -------------------------------------------------------------------------------------------


def test_keeptrusts_create_with_client_secret_and_all_events() -> None:
    created = {"id": "wh_1", "name": "finance", "url": "https://hooks.example/f", "events": [], "enabled": True}
    script = Script().on("POST", "/v1/webhooks", reply(201, created))
    live, secret = KeeptrustsProvider(script.client()).create(hook(), Secret("client-chosen-secret"))
    assert script.bodies()[0] == {
        "name": "finance",
        "url": "https://hooks.example/f",
        "enabled": True,
        "secret": "client-chosen-secret",
    }
    assert secret == Secret("client-chosen-secret")
    assert live.events is None and live.label == "finance"


def test_keeptrusts_update_sends_empty_events_for_all() -> None:
    before = LiveWebhook(id="wh_1", url="https://old", events=frozenset({"event.created"}), label="finance")
    script = Script().on("PUT", "/v1/webhooks/wh_1", lambda r: reply(200, {"id": "wh_1", **json.loads(r.content)}))
    after = KeeptrustsProvider(script.client()).update(before, hook())
    assert script.bodies()[0]["events"] == []
    assert after.events is None and after.url == "https://hooks.example/f"


def test_keeptrusts_rotate_and_test() -> None:
    live = LiveWebhook(id="wh_1", url="https://h")
    script = (
        Script()
        .on("POST", "/v1/webhooks/wh_1/rotate-secret", reply(200, {"id": "wh_1", "secret": "whsec_new"}))
        .on("POST", "/v1/webhooks/wh_1/test", reply(200, {"delivered": False, "status_code": 503, "error": "down"}))
    )
    provider = KeeptrustsProvider(script.client())
    assert provider.rotate(live, None) == Secret("whsec_new")
    result = provider.test("wh_1")
    assert (result.ok, result.status_code, result.message) == (False, 503, "down")


# --- Immuta -----------------------------------------------------------------------------------------------


def test_immuta_create_sends_the_client_key_and_returns_it() -> None:
    answer = {"id": UUID, "url": "http://hooks.internal/i", "verifyTls": False, "signingKey": True, "suppressed": False}
    script = Script().on("POST", "/api/notification/webhook", reply(200, answer))
    key = Secret.generate()
    live, secret = ImmutaProvider(script.client()).create(hook(url="http://hooks.internal/i", verify_tls=False), key)
    assert script.bodies()[0] == {"url": "http://hooks.internal/i", "verifyTls": False, "signingKey": key.reveal()}
    assert secret == key and live.verify_tls is False and live.events is None


def test_immuta_create_without_a_key_is_refused_before_sending() -> None:
    script = Script()
    with pytest.raises(ProviderError, match="signing key is required"):
        ImmutaProvider(script.client()).create(hook(), None)
    assert script.requests == []


def test_immuta_rotate_puts_the_new_key_and_test_covers_all_webhooks() -> None:
    item = {"id": UUID, "url": "https://h/i", "verifyTls": True, "signingKey": True, "suppressed": True}
    script = (
        Script()
        .on("PUT", f"/api/notification/webhook/{UUID}", reply(200, item))
        .on("GET", "/api/notification/webhook", reply(200, [item]))
        .on("POST", "/api/notification/webhook/test", reply(200, {"status": "failure", "httpStatusCode": 500}))
    )
    provider = ImmutaProvider(script.client())
    key = Secret.generate()
    assert provider.rotate(LiveWebhook(id=UUID, url="https://h/i"), key) == key
    result = provider.test(UUID)
    assert script.bodies()[0] == {"signingKey": key.reveal()}
    assert script.bodies()[2] == {"url": "https://h/i", "verifyTls": True}
    assert (result.ok, result.status_code, result.all_webhooks) == (False, 500, True)


def test_immuta_list_maps_verify_tls_and_suppressed() -> None:
    item = {"id": UUID, "url": "https://h/i", "verifyTls": False, "signingKey": True, "suppressed": True}
    script = Script().on("GET", "/api/notification/webhook", reply(200, [item]))
    [live] = ImmutaProvider(script.client()).list()
    assert (live.verify_tls, live.suppressed, live.active, live.label) == (False, True, True, None)


# --- Ingate -----------------------------------------------------------------------------------------------


def test_ingate_omits_events_for_all_and_sends_empty_list_on_update() -> None:
    created = {"id": UUID, "url": "https://hooks.example/f", "secret": "d290f1ee", "events": [], "active": True}
    script = (
        Script()
        .on("POST", "/api/v1/webhooks", reply(201, created))
        .on("PUT", f"/api/v1/webhooks/{UUID}", reply(200, {**created, "secret": None}))
    )
    provider = IngateProvider(script.client())
    live, secret = provider.create(hook(), None)
    provider.update(live, hook())
    assert script.bodies() == [
        {"url": "https://hooks.example/f", "active": True},
        {"url": "https://hooks.example/f", "events": [], "active": True},
    ]
    assert live.events is None and secret == Secret("d290f1ee")


def test_ingate_has_no_rotation_test_or_deliveries() -> None:
    script = Script()
    provider = IngateProvider(script.client())
    with pytest.raises(ProviderError, match="in-place rotation"):
        provider.rotate(LiveWebhook(id="x", url="https://h"), None)
    with pytest.raises(ProviderError, match="no test endpoint"):
        provider.test("x")
    assert provider.deliveries("x") == []
    assert script.requests == []


def test_malformed_responses_are_provider_errors() -> None:
    script = Script().on("GET", "/api/v1/webhooks", reply(200, {"unexpected": True}))
    with pytest.raises(ProviderError, match="unexpected list response"):
        IngateProvider(script.client()).list()
