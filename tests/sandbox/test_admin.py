"""The `/_sandbox/` admin API, for a sandbox running in another process."""

from __future__ import annotations

import httpx

from reconciler.sandbox import Sandbox
from tests.sandbox.helpers import CREATE_BODY, api


def admin(sb: Sandbox, call: str) -> str:
    return f"{sb.url}/_sandbox/{call}"


def test_admin_api_drives_the_sandbox(sandbox: Sandbox, client: httpx.Client, anon: httpx.Client) -> None:
    created = client.post(api(sandbox, "infraaudit"), json=CREATE_BODY["infraaudit"]).json()
    requests = anon.get(admin(sandbox, "requests")).json()  # no provider token needed
    assert requests == [
        {
            "provider": "infraaudit",
            "account": "default",
            "method": "POST",
            "path": "/infraaudit/api/v1/webhooks",
            "query": "",
            "status": 201,
        }
    ]
    assert anon.get(admin(sandbox, "secrets")).json() == [created["secret"]]
    hooks = anon.get(admin(sandbox, "webhooks"), params={"provider": "infraaudit"}).json()
    assert hooks[0]["secret"] == created["secret"]

    assert anon.post(admin(sandbox, "fail-deliveries"), json={"url_substring": "hooks.example"}).status_code == 200
    r = anon.post(
        admin(sandbox, "deliveries"), json={"provider": "infraaudit", "webhook_id": created["id"], "status": "failed"}
    )
    assert r.status_code == 200 and r.json()["status"] == "failed"

    assert anon.post(admin(sandbox, "variant"), json={"provider": "infraaudit", "variant": "vendor"}).status_code == 200
    assert client.get(api(sandbox, "infraaudit")).json()["total"] == 1

    assert anon.post(admin(sandbox, "tokens"), json={"token": "ro", "role": "readonly"}).status_code == 200
    ro = {"Authorization": "Bearer ro"}
    assert anon.post(api(sandbox, "ingate"), json=CREATE_BODY["ingate"], headers=ro).status_code == 403
    assert anon.post(admin(sandbox, "tokens"), json={"token": "ro", "revoke": True}).status_code == 200
    assert anon.get(api(sandbox, "ingate"), headers=ro).status_code == 401

    assert anon.post(admin(sandbox, "faults"), json={"error_rate": 1.0, "provider": "ingate"}).status_code == 200
    assert client.get(api(sandbox, "ingate")).status_code == 503
    assert client.get(api(sandbox, "keeptrusts")).status_code == 200

    assert anon.post(admin(sandbox, "reset")).status_code == 200
    assert sandbox.requests == [] and sandbox.webhooks("infraaudit") == []
    assert client.get(api(sandbox, "ingate")).status_code == 200


def test_admin_api_refuses_bad_input(sandbox: Sandbox, anon: httpx.Client) -> None:
    assert anon.post(admin(sandbox, "faults"), json={"nonsense": 1}).status_code == 400
    assert anon.post(admin(sandbox, "faults"), json={"error_rate": 3}).status_code == 400
    assert anon.post(admin(sandbox, "variant"), json={"provider": "ingate", "variant": "x"}).status_code == 400
    assert anon.post(admin(sandbox, "variant"), json={}).status_code == 400
    assert anon.post(admin(sandbox, "tokens"), json=[1]).status_code == 400
    assert anon.get(admin(sandbox, "nothing")).status_code == 404
    assert anon.get(admin(sandbox, "reset")).status_code == 404  # wrong method
