"""Ingate emulator against docs/providers.md §1."""

from __future__ import annotations

import uuid

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import api


def test_create_returns_secret_once_and_list_get_hide_it(sandbox: Sandbox, client: httpx.Client) -> None:
    r = client.post(api(sandbox, "ingate"), json={"url": "https://h.example/x", "events": ["key.rotate"]})
    assert r.status_code == 201
    created = r.json()
    assert set(created) == {"id", "url", "secret", "events", "active", "created_at"}
    uuid.UUID(created["id"])
    uuid.UUID(created["secret"])  # a uuid-looking secret, as in the docs
    assert created["events"] == ["key.rotate"] and created["active"] is True
    assert created["created_at"].endswith("Z")
    listed = client.get(api(sandbox, "ingate")).json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    got = client.get(f"{api(sandbox, 'ingate')}/{created['id']}")
    assert got.status_code == 200 and "secret" not in got.json()
    assert created["secret"] not in r.text.replace(created["secret"], "", 1)
    assert sandbox.webhooks("ingate")[0]["secret"] == created["secret"]
    assert created["secret"] in sandbox.secrets()


@pytest.mark.parametrize("body", [{"url": "https://h.example/x"}, {"url": "https://h.example/x", "events": []}])
def test_omitted_or_empty_events_mean_all_and_read_back_as_empty(
    sandbox: Sandbox, client: httpx.Client, body: dict[str, object]
) -> None:
    r = client.post(api(sandbox, "ingate"), json=body)
    assert r.status_code == 201 and r.json()["events"] == []


def test_put_is_partial_and_delete_is_204(sandbox: Sandbox, client: httpx.Client) -> None:
    hook = client.post(api(sandbox, "ingate"), json={"url": "https://h.example/x", "events": ["key.create"]}).json()
    one = f"{api(sandbox, 'ingate')}/{hook['id']}"
    r = client.put(one, json={"active": False})
    assert r.status_code == 200
    assert r.json() == {**{k: v for k, v in hook.items() if k != "secret"}, "active": False}
    r = client.put(one, json={"url": "https://h.example/y", "events": []})
    assert r.json()["url"] == "https://h.example/y" and r.json()["events"] == [] and r.json()["active"] is False
    r = client.delete(one)
    assert r.status_code == 204 and r.content == b""
    assert client.get(one).status_code == 404
    assert client.delete(one).json() == {"error": "webhook not found"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "http://h.example/x"},
        {"url": "not a url"},
        {"url": "https://h.example/x", "events": ["nope"]},
        {"url": "https://h.example/x", "events": "key.create"},
    ],
)
def test_validation_is_400_with_error_body(sandbox: Sandbox, client: httpx.Client, body: dict[str, object]) -> None:
    r = client.post(api(sandbox, "ingate"), json=body)
    assert r.status_code == 400
    assert set(r.json()) == {"error"}
    assert sandbox.webhooks("ingate") == []


def test_put_refuses_http_and_unknown_events(sandbox: Sandbox, client: httpx.Client) -> None:
    hook = client.post(api(sandbox, "ingate"), json={"url": "https://h.example/x"}).json()
    one = f"{api(sandbox, 'ingate')}/{hook['id']}"
    assert client.put(one, json={"url": "http://h.example/x"}).status_code == 400
    assert client.put(one, json={"active": "no"}).status_code == 400
    assert client.put(f"{api(sandbox, 'ingate')}/missing", json={"active": False}).status_code == 404


def test_no_test_or_deliveries_endpoints(sandbox: Sandbox, client: httpx.Client) -> None:
    hook = client.post(api(sandbox, "ingate"), json={"url": "https://h.example/x"}).json()
    assert client.post(f"{api(sandbox, 'ingate')}/{hook['id']}/test").status_code == 404
    assert client.get(f"{api(sandbox, 'ingate')}/{hook['id']}/deliveries").status_code == 404
    with pytest.raises(ValueError, match="no delivery history"):
        sandbox.record_delivery("ingate", "default", hook["id"], "success")
