"""Rules shared by all five emulators: auth, accounts, routing, error shapes, secrets, recording."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.sandbox import RecordedRequest, Sandbox
from reconciler.sandbox.registry import SPECS
from tests.sandbox.helpers import CREATE_BODY, api, one_url, post_create

ERROR_KEYS = {
    "ingate": {"error"},
    "infraaudit": {"error", "code"},
    "keeptrusts": {"error"},
    "immuta": {"message", "error", "statusCode"},
    "encrata": {"error"},
}


def create(sb: Sandbox, client: httpx.Client, provider: str, account: str = "default") -> dict[str, Any]:
    return post_create(sb, client, provider, CREATE_BODY[provider], account)


@pytest.mark.parametrize("provider", list(SPECS))
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic c2FuZGJveC10b2tlbg==", "Bearer"])
def test_missing_or_invalid_token_is_401(sandbox: Sandbox, anon: httpx.Client, provider: str, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    r = anon.get(api(sandbox, provider), headers=headers)
    assert r.status_code == 401 and set(r.json()) == ERROR_KEYS[provider]


ROLE_FOR_READS = {"ingate", "immuta"}  # docs/providers.md: admin role / APPLICATION_ADMIN for the whole API


@pytest.mark.parametrize("provider", list(SPECS))
def test_readonly_token_gets_403_on_writes(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    """And on reads too where the whole API needs the role (Ingate's admin, Immuta's APPLICATION_ADMIN)."""
    sandbox.add_token("viewer", role="readonly")
    viewer = {"Authorization": "Bearer viewer"}
    listed = client.get(api(sandbox, provider), headers=viewer)
    assert listed.status_code == (403 if provider in ROLE_FOR_READS else 200)
    r = client.post(api(sandbox, provider), json=CREATE_BODY[provider], headers=viewer)
    assert r.status_code == 403 and set(r.json()) == ERROR_KEYS[provider]
    assert sandbox.webhooks(provider) == []


@pytest.mark.parametrize("provider", list(SPECS))
def test_revoked_token_is_401(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    sandbox.add_token("temp")
    assert client.get(api(sandbox, provider), headers={"Authorization": "Bearer temp"}).status_code == 200
    sandbox.revoke_token("temp")
    assert client.get(api(sandbox, provider), headers={"Authorization": "Bearer temp"}).status_code == 401


def test_other_token_for_the_whole_sandbox() -> None:
    with Sandbox(token="custom") as sb:  # entering starts it
        assert httpx.get(api(sb, "ingate"), headers={"Authorization": "Bearer custom"}).status_code == 200
        assert httpx.get(api(sb, "ingate"), headers={"Authorization": "Bearer sandbox-token"}).status_code == 401
    assert not sb.running


@pytest.mark.parametrize("provider", list(SPECS))
def test_secret_only_in_the_create_response(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    created = create(sandbox, client, provider)
    stored = sandbox.webhooks(provider)[0]
    secret = str(stored.get("secret") or stored.get("signingKey"))
    assert secret in sandbox.secrets()
    listed = client.get(api(sandbox, provider))
    assert secret not in listed.text
    if provider != "immuta":  # Immuta has no get-by-id
        url, params = one_url(sandbox, provider, str(created["id"]))
        got = client.get(url, params=params)
        assert got.status_code == 200 and secret not in got.text


@pytest.mark.parametrize("provider", list(SPECS))
def test_accounts_are_isolated(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    create(sandbox, client, provider, "acme")
    create(sandbox, client, provider, "globex/eu")
    assert len(client.get(api(sandbox, provider)).json()) == 0
    assert len(sandbox.webhooks(provider, "acme")) == 1
    assert len(sandbox.webhooks(provider, "globex/eu")) == 1
    assert sandbox.webhooks(provider) == []
    assert {r.account for r in sandbox.requests} == {"acme", "globex/eu", "default"}


def test_account_prefixes_follow_the_base_url(sandbox: Sandbox) -> None:
    assert sandbox.base_url("ingate") == f"{sandbox.url}/ingate"
    assert sandbox.base_url("infraaudit", account="acme") == f"{sandbox.url}/infraaudit/acme"
    assert sandbox.url.startswith("http://127.0.0.1:")
    with pytest.raises(ValueError, match="unknown provider"):
        sandbox.base_url("nope")


@pytest.mark.parametrize("provider", list(SPECS))
def test_unknown_id_is_404_in_the_provider_shape(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    if provider == "immuta":
        r = client.put(f"{api(sandbox, provider)}/0b6f0f7e-0000-4000-8000-000000000000", json={})
    else:
        url, params = one_url(sandbox, provider, "missing")
        r = client.get(url, params=params)
    assert r.status_code == 404 and set(r.json()) == ERROR_KEYS[provider]


@pytest.mark.parametrize("provider", list(SPECS))
def test_unknown_paths_and_methods(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    assert client.get(f"{sandbox.base_url(provider)}/elsewhere").status_code == 404
    r = client.patch(api(sandbox, provider), json={})
    assert r.status_code == 405 and "GET" in r.headers["allow"] and set(r.json()) == ERROR_KEYS[provider]
    r = client.options(api(sandbox, provider))
    assert r.status_code == 405 and "GET" in r.headers["allow"] and set(r.json()) == ERROR_KEYS[provider]
    r = client.head(api(sandbox, provider))
    assert r.status_code == 405 and "GET" in r.headers["allow"] and r.content == b""  # no body, by HTTP's rules
    assert client.get(api(sandbox, provider)).status_code == 200  # and the connection is still in step


@pytest.mark.parametrize("provider", list(SPECS))
def test_bad_json_is_400(sandbox: Sandbox, client: httpx.Client, provider: str) -> None:
    r = client.post(api(sandbox, provider), content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = client.post(api(sandbox, provider), json=["a", "list"])
    assert r.status_code == 400


def test_unknown_provider_is_404(sandbox: Sandbox, client: httpx.Client) -> None:
    r = client.get(f"{sandbox.url}/nope/api/v1/webhooks")
    assert r.status_code == 404 and "ingate" in r.json()["error"]
    assert sandbox.requests == []


def test_requests_are_recorded(sandbox: Sandbox, client: httpx.Client) -> None:
    client.get(api(sandbox, "encrata", "acme"), params={"id": "x"})
    client.get(api(sandbox, "ingate"), headers={"Authorization": "Bearer nope"})
    assert sandbox.requests == [
        RecordedRequest("encrata", "acme", "GET", "/encrata/acme/api/webhooks", "id=x", 404),
        RecordedRequest("ingate", "default", "GET", "/ingate/api/v1/webhooks", "", 401),
    ]
    sandbox.clear_requests()
    assert sandbox.requests == []


def test_reset_forgets_everything(sandbox: Sandbox, client: httpx.Client) -> None:
    create(sandbox, client, "ingate")
    sandbox.add_token("extra")
    sandbox.set_variant("infraaudit", "vendor")
    sandbox.reset()
    assert sandbox.webhooks("ingate") == [] and sandbox.requests == [] and sandbox.secrets() == set()
    assert client.get(api(sandbox, "ingate"), headers={"Authorization": "Bearer extra"}).status_code == 401
    assert isinstance(client.get(api(sandbox, "infraaudit")).json(), list)


def test_unknown_variant_and_role_are_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="no variant"):
        sandbox.set_variant("ingate", "vendor")
    with pytest.raises(ValueError, match="unknown role"):
        sandbox.add_token("t", role="owner")


def test_keep_alive_round_trips_are_fast(sandbox: Sandbox, client: httpx.Client) -> None:
    started = time.perf_counter()
    for _ in range(50):
        assert client.get(api(sandbox, "ingate")).status_code == 200
    # With Nagle's algorithm on, each keep-alive round trip would cost ~40 ms (2 s in all).
    assert time.perf_counter() - started < 1.0


def test_chunked_bodies_are_read(sandbox: Sandbox, client: httpx.Client) -> None:
    chunks = iter([b'{"url": "https://h.', b'example/x"}'])
    r = client.post(api(sandbox, "ingate"), content=chunks)  # httpx sends an iterator chunked
    assert r.status_code == 201, r.text
    listed = client.get(api(sandbox, "ingate"))  # the next request on the connection is unharmed
    assert [w["url"] for w in listed.json()] == ["https://h.example/x"]


@pytest.mark.parametrize(
    ("provider", "field"), [("infraaudit", "enabled"), ("keeptrusts", "enabled"), ("immuta", "verifyTls")]
)
def test_null_for_a_boolean_is_a_validation_error(
    sandbox: Sandbox, client: httpx.Client, provider: str, field: str
) -> None:
    """`enabled`/`verifyTls` default to true when omitted; a null is not omitted, and is refused."""
    r = client.post(api(sandbox, provider), json={**CREATE_BODY[provider], field: None})
    assert r.status_code == (422 if provider == "infraaudit" else 400)
    assert field in r.text and sandbox.webhooks(provider) == []


def test_expect_100_continue_is_answered_before_the_body(sandbox: Sandbox) -> None:
    """Clients that send `Expect: 100-continue` (curl, for bodies over 1 KiB) wait for the interim answer."""
    body = json.dumps({"url": "https://h.example/x"}).encode()
    target = urlsplit(api(sandbox, "ingate"))
    with socket.create_connection((target.hostname, target.port), timeout=5) as conn:
        head = (
            f"POST {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\nAuthorization: Bearer sandbox-token\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
        )
        conn.sendall(head.encode())
        conn.settimeout(0.5)
        assert conn.recv(1024).startswith(b"HTTP/1.1 100")  # before the body is sent
        conn.settimeout(5)
        conn.sendall(body)
        assert conn.recv(65536).startswith(b"HTTP/1.1 201")
