"""Immuta emulator against docs/providers.md §4."""

from __future__ import annotations

import uuid

import httpx
import pytest

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import api

KEY = "immuta-key-0123456789abcdef0123456789"


def test_base_url_ends_in_marketplace(sandbox: Sandbox) -> None:
    assert sandbox.base_url("immuta") == f"{sandbox.url}/immuta/marketplace"
    assert sandbox.base_url("immuta", account="acme") == f"{sandbox.url}/immuta/acme/marketplace"


def test_create_is_200_and_signing_key_reads_as_boolean(sandbox: Sandbox, client: httpx.Client) -> None:
    r = client.post(api(sandbox, "immuta"), json={"url": "http://h.example/x", "signingKey": KEY})
    assert r.status_code == 200
    created = r.json()
    uuid.UUID(created["id"])
    assert created == {
        "id": created["id"],
        "url": "http://h.example/x",
        "verifyTls": True,
        "signingKey": True,
        "suppressed": False,
    }
    assert client.get(api(sandbox, "immuta")).json() == [created]
    assert KEY not in client.get(api(sandbox, "immuta")).text
    assert sandbox.webhooks("immuta")[0]["signingKey"] == KEY and KEY in sandbox.secrets()
    bare = client.post(api(sandbox, "immuta"), json={"url": "https://h.example/y", "verifyTls": False}).json()
    assert bare["signingKey"] is False and bare["verifyTls"] is False


@pytest.mark.parametrize("body", [{}, {"url": "ftp://h.example/x"}, {"url": "https://h.example", "verifyTls": 1}])
def test_errors_have_message_error_status_code(sandbox: Sandbox, client: httpx.Client, body: dict[str, object]) -> None:
    r = client.post(api(sandbox, "immuta"), json=body)
    assert r.status_code == 400
    assert set(r.json()) == {"message", "error", "statusCode"}
    assert r.json()["statusCode"] == 400 and r.json()["error"] == "Bad Request"


def test_put_partial_new_key_and_suppressed_read_only(sandbox: Sandbox, client: httpx.Client) -> None:
    created = client.post(api(sandbox, "immuta"), json={"url": "https://h.example/x", "signingKey": KEY}).json()
    one = f"{api(sandbox, 'immuta')}/{created['id']}"
    r = client.put(one, json={"verifyTls": False, "suppressed": True})
    assert r.status_code == 200
    assert r.json() == {**created, "verifyTls": False}  # suppressed stays false: it is read-only
    new_key = "immuta-key-rotated-abcdef0123456789"
    assert client.put(one, json={"signingKey": new_key}).json()["signingKey"] is True
    assert sandbox.webhooks("immuta")[0]["signingKey"] == new_key and new_key in sandbox.secrets()
    sandbox.patch_webhook("immuta", created["id"], {"suppressed": True})
    assert client.get(api(sandbox, "immuta")).json()[0]["suppressed"] is True


def test_delete_204_404_and_no_get_by_id(sandbox: Sandbox, client: httpx.Client) -> None:
    created = client.post(api(sandbox, "immuta"), json={"url": "https://h.example/x"}).json()
    one = f"{api(sandbox, 'immuta')}/{created['id']}"
    assert client.get(one).status_code == 405  # no get-by-id is documented
    assert client.delete(one).status_code == 204
    r = client.delete(one)
    assert r.status_code == 404 and r.json() == {
        "message": "webhook not found",
        "error": "Not Found",
        "statusCode": 404,
    }


def test_test_call_tests_every_webhook(sandbox: Sandbox, client: httpx.Client) -> None:
    test = f"{api(sandbox, 'immuta')}/test"
    body = {"url": "https://h.example/a", "verifyTls": True, "signingKey": KEY}
    assert client.post(test, json=body).json() == {"status": "success", "httpStatusCode": 200}
    for url in ("https://h.example/a", "https://down.example/b"):
        client.post(api(sandbox, "immuta"), json={"url": url})
    assert client.post(test, json=body).json()["status"] == "success"
    sandbox.fail_deliveries("down.example")
    result = client.post(test, json=body).json()  # the body names /a, yet /b's failure counts
    assert result["status"] == "failure" and result["httpStatusCode"] == 500 and "1 of 2" in result["errorMessage"]
    assert client.post(test, json={}).status_code == 400
