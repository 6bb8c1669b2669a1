"""Where each provider's API lives under a sandbox base URL, and a valid create body for each."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.sandbox import Sandbox

API_ROOT = {
    "ingate": "/api/v1/webhooks",
    "infraaudit": "/api/v1/webhooks",
    "keeptrusts": "/v1/webhooks",
    "immuta": "/api/notification/webhook",
    "encrata": "/api/webhooks",
}

CREATE_BODY: dict[str, dict[str, Any]] = {
    "ingate": {"url": "https://hooks.example/a", "events": ["key.create"]},
    "infraaudit": {"name": "a", "url": "https://hooks.example/a", "events": ["drift.detected"]},
    "keeptrusts": {"url": "https://hooks.example/a", "events": ["event.created"]},
    "immuta": {"url": "https://hooks.example/a", "signingKey": "immuta-signing-key-0123456789abcdef"},
    "encrata": {"url": "https://hooks.example/a", "events": ["credits.low"]},
}

CREATE_STATUS = {"ingate": 201, "infraaudit": 201, "keeptrusts": 201, "immuta": 200, "encrata": 201}


def api(sb: Sandbox, provider: str, account: str = "default") -> str:
    return sb.base_url(provider, account) + API_ROOT[provider]


def one_url(sb: Sandbox, provider: str, webhook_id: str, account: str = "default") -> tuple[str, dict[str, str]]:
    """The URL and query that address one webhook: Encrata takes the id in the query string."""
    if provider == "encrata":
        return api(sb, provider, account), {"id": webhook_id}
    return f"{api(sb, provider, account)}/{webhook_id}", {}


def post_create(
    sb: Sandbox, client: httpx.Client, provider: str, body: dict[str, Any], account: str = "default"
) -> dict[str, Any]:
    """POST a create body; the emulator must accept it with the provider's create status."""
    r = client.post(api(sb, provider, account), json=body)
    assert r.status_code == CREATE_STATUS[provider], r.text
    return dict(r.json())
