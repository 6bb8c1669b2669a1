"""Encrata emulator against docs/providers.md §5, both the reference shape and the `sdk` variant."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import api, post_create

BODY = {"url": "https://h.example/x", "events": ["lookup.completed", "credits.low"], "description": "prod"}


def create(sb: Sandbox, client: httpx.Client, **extra: object) -> dict[str, Any]:
    return post_create(sb, client, "encrata", {**BODY, **extra})


def test_create_shape_and_secret_format(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    assert set(created) == {
        "id",
        "workspace_id",
        "url",
        "secret",
        "events",
        "is_active",
        "description",
        "created_by",
        "created_at",
        "updated_at",
    }
    uuid.UUID(str(created["id"]))
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", str(created["secret"]))
    assert created["is_active"] is True and created["description"] == "prod"
    listed = client.get(api(sandbox, "encrata")).json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    got = client.get(api(sandbox, "encrata"), params={"id": created["id"]})
    assert got.status_code == 200 and got.json() == listed[0]
    assert client.get(f"{api(sandbox, 'encrata')}/{created['id']}").status_code == 404  # never in the path


@pytest.mark.parametrize(
    "body",
    [
        {"events": ["credits.low"]},
        {"url": "http://h.example/x", "events": ["credits.low"]},
        {"url": "https://h.example/x"},
        {"url": "https://h.example/x", "events": []},
        {"url": "https://h.example/x", "events": ["ping"]},
    ],
)
def test_validation_is_400(sandbox: Sandbox, client: httpx.Client, body: dict[str, object]) -> None:
    r = client.post(api(sandbox, "encrata"), json=body)
    assert r.status_code == 400 and set(r.json()) == {"error"}


def test_duplicate_url_is_409_per_account(sandbox: Sandbox, client: httpx.Client) -> None:
    create(sandbox, client)
    r = client.post(api(sandbox, "encrata"), json=BODY)
    assert r.status_code == 409 and set(r.json()) == {"error"}
    assert client.post(api(sandbox, "encrata", "other"), json=BODY).status_code == 201


def test_put_needs_id_and_url_and_is_partial(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    other = create(sandbox, client, url="https://h.example/other")
    root = api(sandbox, "encrata")
    assert client.put(root, json={"url": "https://h.example/x"}).status_code == 400
    assert client.put(root, json={"id": created["id"]}).status_code == 400
    assert client.put(root, json={"id": "nope", "url": "https://h.example/x"}).status_code == 404
    assert client.put(root, json={"id": created["id"], "url": other["url"]}).status_code == 409
    r = client.put(root, json={"id": created["id"], "url": "https://h.example/y", "is_active": False})
    assert r.status_code == 200 and r.json() == {"status": "updated"}
    now = client.get(root, params={"id": created["id"]}).json()
    assert now["url"] == "https://h.example/y" and now["is_active"] is False
    assert now["events"] == BODY["events"] and now["description"] == "prod"  # omitted = unchanged


def test_delete_takes_the_id_in_the_body(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    root = api(sandbox, "encrata")
    assert client.request("DELETE", root).status_code == 400
    r = client.request("DELETE", root, json={"id": created["id"]})
    assert r.status_code == 200 and r.json() == {"status": "deleted"}
    r = client.request("DELETE", root, json={"id": created["id"]})
    assert r.status_code == 404 and r.json() == {"error": "webhook not found"}


def test_test_call_signs_with_the_whole_secret_and_records_a_delivery(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    r = client.post(f"{api(sandbox, 'encrata')}/test", json={"id": created["id"]})
    assert r.status_code == 200
    assert r.json()["status"] == "sent" and r.json()["url"] == created["url"]
    assert re.fullmatch(r"[0-9a-f]{64}", r.json()["signature"])
    assert client.post(f"{api(sandbox, 'encrata')}/test", json={"id": "nope"}).status_code == 404
    deliveries = client.get(f"{api(sandbox, 'encrata')}/deliveries", params={"webhook_id": created["id"]}).json()
    assert len(deliveries) == 1
    assert set(deliveries[0]) == {
        "id",
        "webhook_id",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "last_attempt_at",
        "created_at",
    }
    assert deliveries[0]["status"] == "success"
    payload = f'{{"event":"webhook.test","webhook_id":"{created["id"]}"}}'.encode()
    expected = hmac.new(created["secret"].encode(), payload, hashlib.sha256).hexdigest()
    assert r.json()["signature"] == expected


def test_deliveries_newest_fifty_and_webhook_id_required(sandbox: Sandbox, client: httpx.Client) -> None:
    created = create(sandbox, client)
    for _ in range(55):
        sandbox.record_delivery("encrata", "default", str(created["id"]), "success")
    last = sandbox.record_delivery("encrata", "default", str(created["id"]), "pending", event="apikey.created")
    url = f"{api(sandbox, 'encrata')}/deliveries"
    deliveries = client.get(url, params={"webhook_id": created["id"]}).json()
    assert len(deliveries) == 50 and deliveries[0]["id"] == last["id"] and deliveries[0]["status"] == "pending"
    assert client.get(url).status_code == 400
    assert client.get(url, params={"webhook_id": "nope"}).status_code == 404


def test_sdk_variant(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_variant("encrata", "sdk")
    created = create(sandbox, client)
    root = api(sandbox, "encrata")
    listed = client.get(root).json()
    assert set(listed) == {"webhooks"} and listed["webhooks"][0]["id"] == created["id"]
    # A full replace: what the request omits goes back to its default; omitted events means none.
    assert client.put(root, json={"id": created["id"], "url": "https://h.example/y"}).status_code == 200
    assert client.get(root, params={"id": created["id"]}).json()["events"] == []
    r = client.put(root, json={"id": created["id"], "url": "https://h.example/y", "events": ["credits.low"]})
    assert r.json() == {"status": "updated"}
    hook = client.get(root, params={"id": created["id"]}).json()
    assert hook["description"] is None and hook["is_active"] is True and hook["events"] == ["credits.low"]
    client.post(f"{root}/test", json={"id": created["id"]})
    deliveries = client.get(f"{root}/deliveries", params={"webhook_id": created["id"]}).json()
    assert set(deliveries) == {"deliveries"} and len(deliveries["deliveries"]) == 1
    r = client.request("DELETE", root, json={"id": created["id"]})
    assert r.status_code == 204 and r.content == b""


def test_rate_limit_30_per_minute_per_key_with_headers(sandbox: Sandbox, client: httpx.Client) -> None:
    root = api(sandbox, "encrata")
    first = client.get(root)
    assert first.headers["x-ratelimit-limit"] == "30" and first.headers["x-ratelimit-remaining"] == "29"
    for _ in range(29):
        assert client.get(root).status_code == 200
    r = client.get(root)
    assert r.status_code == 429 and set(r.json()) == {"error"}
    assert 1 <= int(r.headers["retry-after"]) <= 60 and r.headers["x-ratelimit-remaining"] == "0"
    sandbox.add_token("second-key")
    assert client.get(root, headers={"Authorization": "Bearer second-key"}).status_code == 200  # per key
    assert client.get(api(sandbox, "encrata", "acme")).status_code == 200  # per account


def test_rate_limit_can_be_lifted_and_is_still_announced(sandbox: Sandbox, client: httpx.Client) -> None:
    from reconciler.sandbox import Faults

    sandbox.set_faults(Faults(encrata_rate_limit=None), provider="encrata")
    for _ in range(40):
        r = client.get(api(sandbox, "encrata"))
        assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "30"  # the documented headers stay
        assert r.headers["x-ratelimit-remaining"] == "30"  # and do not count down to a limit not applied
