"""Keeptrusts emulator against docs/providers.md §3."""

from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import api


def test_create_shape_secret_once_and_all_events(sandbox: Sandbox, client: httpx.Client) -> None:
    r = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/x", "name": "ops"})
    assert r.status_code == 201
    created = r.json()
    assert set(created) == {"id", "name", "url", "events", "enabled", "created_at", "secret"}
    assert created["id"].startswith("wh_") and created["secret"].startswith("whsec_")
    assert created["events"] == [] and created["enabled"] is True and created["name"] == "ops"
    listed = client.get(api(sandbox, "keeptrusts")).json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    assert client.get(f"{api(sandbox, 'keeptrusts')}/{created['id']}").json() == listed[0]


def test_client_supplied_secret_is_kept(sandbox: Sandbox, client: httpx.Client) -> None:
    mine = "whsec_client_supplied_0123456789"
    r = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/x", "secret": mine, "enabled": False})
    assert r.json()["secret"] == mine and r.json()["enabled"] is False
    assert sandbox.webhooks("keeptrusts")[0]["secret"] == mine and mine in sandbox.secrets()


def test_null_secret_means_generated(sandbox: Sandbox, client: httpx.Client) -> None:
    r = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/x", "secret": None})
    assert r.status_code == 201 and r.json()["secret"].startswith("whsec_")
    r = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/y", "secret": ""})
    assert r.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"events": ["event.created"]},
        {"url": "http://h.example/x"},
        {"url": "https://h.example/x", "events": ["drift.detected"]},
        {"url": "https://h.example/x", "secret": ""},
        {"url": "https://h.example/x", "enabled": "yes"},
    ],
)
def test_validation_is_400(sandbox: Sandbox, client: httpx.Client, body: dict[str, object]) -> None:
    r = client.post(api(sandbox, "keeptrusts"), json=body)
    assert r.status_code == 400 and set(r.json()) == {"error"}


def test_put_partial_delete_and_404(sandbox: Sandbox, client: httpx.Client) -> None:
    created = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/x", "name": "a"}).json()
    one = f"{api(sandbox, 'keeptrusts')}/{created['id']}"
    r = client.put(one, json={"events": ["config.deployed"], "enabled": False})
    assert r.status_code == 200 and "secret" not in r.json()
    assert r.json()["events"] == ["config.deployed"] and r.json()["name"] == "a" and r.json()["url"] == created["url"]
    assert client.put(one, json={"name": "b"}).json()["name"] == "b"
    assert client.delete(one).status_code == 204
    assert client.get(one).status_code == 404 and client.get(one).json() == {"error": "webhook not found"}


def test_rotate_secret_replaces_it_in_place(sandbox: Sandbox, client: httpx.Client) -> None:
    created = client.post(api(sandbox, "keeptrusts"), json={"url": "https://h.example/x"}).json()
    r = client.post(f"{api(sandbox, 'keeptrusts')}/{created['id']}/rotate-secret")
    assert r.status_code == 200 and set(r.json()) == {"id", "secret"}
    assert r.json()["id"] == created["id"] and r.json()["secret"] != created["secret"]
    assert r.json()["secret"].startswith("whsec_")
    assert sandbox.webhooks("keeptrusts")[0]["secret"] == r.json()["secret"]
    assert {created["secret"], r.json()["secret"]} <= sandbox.secrets()


def test_test_call_and_deliveries(sandbox: Sandbox, client: httpx.Client) -> None:
    created = client.post(api(sandbox, "keeptrusts"), json={"url": "https://down.example/x"}).json()
    one = f"{api(sandbox, 'keeptrusts')}/{created['id']}"
    assert client.post(f"{one}/test").json() == {"delivered": True, "status_code": 200}
    sandbox.fail_deliveries("down.example")
    failed = client.post(f"{one}/test").json()
    assert failed["delivered"] is False and failed["status_code"] == 500 and failed["error"]
    deliveries = client.get(f"{one}/deliveries").json()
    assert [d["status"] for d in deliveries] == ["failed", "success"]  # newest first
    assert set(deliveries[0]) == {"id", "event", "status", "response_code", "attempts", "error", "created_at"}
