"""InfraAudit emulator against docs/providers.md §2, both the reference shape and the `vendor` variant."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import api, post_create

BODY = {"name": "prod", "url": "https://h.example/x", "events": ["drift.detected", "alert.created"]}
LIST_FIELDS = {"id", "name", "url", "events", "enabled", "created_at", "last_delivery_status", "last_delivery_at"}


def create(sb: Sandbox, client: httpx.Client, **extra: object) -> dict[str, Any]:
    return post_create(sb, client, "infraaudit", {**BODY, **extra})


def test_create_shape_and_secret_only_once(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    assert set(created) == {"id", "name", "url", "events", "secret"}
    assert str(created["id"]).startswith("wh_") and str(created["secret"]).startswith("whsec_")
    listed = client.get(api(sandbox, "infraaudit")).json()
    assert len(listed) == 1 and set(listed[0]) == LIST_FIELDS
    assert listed[0]["enabled"] is True and listed[0]["last_delivery_status"] is None
    got = client.get(f"{api(sandbox, 'infraaudit')}/{created['id']}").json()
    assert got == listed[0]
    assert created["secret"] not in client.get(api(sandbox, "infraaudit")).text


def test_enabled_defaults_true_and_can_be_false(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client, enabled=False)
    assert client.get(f"{api(sandbox, 'infraaudit')}/{created['id']}").json()["enabled"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://h.example/x", "events": ["ping"]}, "name"),
        ({"name": "a", "events": ["ping"]}, "url"),
        ({"name": "a", "url": "http://h.example/x", "events": ["ping"]}, "url"),
        ({"name": "a", "url": "https://h.example/x"}, "events"),
        ({"name": "a", "url": "https://h.example/x", "events": []}, "events"),
        ({"name": "a", "url": "https://h.example/x", "events": ["key.create"]}, "events"),
        ({"name": "", "url": "https://h.example/x", "events": ["ping"]}, "name"),
    ],
)
def test_validation_is_422_with_code_and_details(
    sandbox: Sandbox, client: httpx.Client, body: dict[str, object], field: str
) -> None:
    r = client.post(api(sandbox, "infraaudit"), json=body)
    assert r.status_code == 422
    err = r.json()
    assert err["code"] == "validation_error" and field in err["details"] and isinstance(err["error"], str)


def test_put_partial_delete_204_and_404(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    one = f"{api(sandbox, 'infraaudit')}/{created['id']}"
    r = client.put(one, json={"enabled": False})
    assert r.status_code == 200 and set(r.json()) == LIST_FIELDS
    assert r.json()["enabled"] is False and r.json()["name"] == "prod" and r.json()["events"] == BODY["events"]
    assert client.put(one, json={"events": []}).status_code == 422
    assert client.put(one, json={"name": "renamed"}).json()["name"] == "renamed"
    r = client.delete(one)
    assert r.status_code == 204 and r.content == b""
    missing = client.get(one)
    assert missing.status_code == 404 and missing.json() == {"error": "webhook not found", "code": "not_found"}


def test_test_call_and_deliveries(sandbox: Sandbox, client: httpx.Client) -> None:
    ok = create(sandbox, client)
    bad = create(sandbox, client, name="bad", url="https://broken.example/x")
    sandbox.fail_deliveries("broken.example")
    r = client.post(f"{api(sandbox, 'infraaudit')}/{ok['id']}/test")
    assert r.status_code == 200 and r.json() == {"status": "success", "response_status": 200}
    r = client.post(f"{api(sandbox, 'infraaudit')}/{bad['id']}/test")
    assert r.json()["status"] == "failed" and r.json()["response_status"] == 500 and r.json()["error"]
    listed = {h["id"]: h for h in client.get(api(sandbox, "infraaudit")).json()}
    assert listed[ok["id"]]["last_delivery_status"] == "success"
    assert listed[bad["id"]]["last_delivery_status"] == "failed"
    assert str(listed[bad["id"]]["last_delivery_at"]).endswith("Z")
    deliveries = client.get(f"{api(sandbox, 'infraaudit')}/{ok['id']}/deliveries").json()
    assert len(deliveries) == 1
    assert set(deliveries[0]) == {
        "id",
        "event",
        "attempt",
        "status",
        "response_status",
        "response_time_ms",
        "created_at",
    }
    assert deliveries[0]["event"] == "ping" and deliveries[0]["id"].startswith("del_")


def test_deliveries_filter_and_pages(sandbox: Sandbox, client: httpx.Client) -> None:
    hook = create(sandbox, client)
    for i in range(25):
        sandbox.record_delivery("infraaudit", "default", str(hook["id"]), "failed" if i % 5 == 0 else "success")
    url = f"{api(sandbox, 'infraaudit')}/{hook['id']}/deliveries"
    assert len(client.get(url).json()) == 20
    assert len(client.get(url, params={"page": 2}).json()) == 5
    assert len(client.get(url, params={"per_page": 100}).json()) == 25
    failed = client.get(url, params={"status": "failed"}).json()
    assert len(failed) == 5 and {d["status"] for d in failed} == {"failed"}
    assert client.get(url, params={"status": "odd"}).status_code == 422
    assert client.get(url, params={"page": 0}).status_code == 422
    for _ in range(90):
        sandbox.record_delivery("infraaudit", "default", str(hook["id"]), "success")
    assert len(client.get(url, params={"per_page": 100, "page": 2}).json()) == 0  # only the last 100 kept


def test_rate_limit_headers_on_every_response(sandbox: Sandbox, client: httpx.Client) -> None:
    for r in (
        client.get(api(sandbox, "infraaudit")),
        client.get(f"{api(sandbox, 'infraaudit')}/missing"),
        client.get(api(sandbox, "infraaudit"), headers={"Authorization": "Bearer nope"}),
    ):
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(r.headers)


def test_vendor_variant(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_variant("infraaudit", "vendor")
    created = create(sandbox, client, is_enabled=False)
    uuid.UUID(str(created["id"]))
    assert "is_enabled" in created and "enabled" not in created and created["secret"]
    listed = client.get(api(sandbox, "infraaudit")).json()
    assert listed["total"] == 1 and len(listed["webhooks"]) == 1
    hook = listed["webhooks"][0]
    assert hook["is_enabled"] is False and "enabled" not in hook and "secret" not in hook
    assert {"updated_at", "last_triggered"} <= set(hook)
    one = f"{api(sandbox, 'infraaudit')}/{created['id']}"
    assert client.put(one, json={"is_enabled": True}).json()["is_enabled"] is True
    err = client.post(api(sandbox, "infraaudit"), json={"name": "x"})
    assert err.status_code == 422 and err.json()["success"] is False and "error" in err.json()
    r = client.delete(one)
    assert r.status_code == 200 and r.json() == {"message": "webhook deleted"}
