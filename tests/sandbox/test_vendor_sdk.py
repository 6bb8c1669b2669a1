"""The vendor's own SDK (encrata 0.5.1 on PyPI) works against the sandbox unchanged: the emulator speaks the
API as the vendor's code expects it, not only as our adapter does."""

from __future__ import annotations

import hashlib
import hmac
import json

import encrata
import pytest

from reconciler.sandbox import Sandbox


def test_encrata_sdk_lifecycle(sandbox: Sandbox) -> None:
    with encrata.Encrata(api_key="sandbox-token", base_url=sandbox.base_url("encrata")) as client:
        created = client.create_webhook("https://hooks.acme.example/e", ["credits.low"], description="ops")
        assert created.secret is not None and created.secret.startswith("whsec_")
        assert len(created.secret) == len("whsec_") + 64

        (listed,) = client.list_webhooks()
        assert listed.id == created.id and listed.secret is None and listed.description == "ops"

        assert client.update_webhook(created.id, "https://hooks.acme.example/f", is_active=False) == {
            "status": "updated"
        }
        (updated,) = client.list_webhooks()
        assert (updated.url, updated.is_active) == ("https://hooks.acme.example/f", False)

        sent = client.test_webhook(created.id)
        assert sent["status"] == "sent"
        payload = json.dumps({"event": "webhook.test", "webhook_id": created.id}, separators=(",", ":"))
        expected = hmac.new(created.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        assert sent["signature"] == expected  # keyed with the whole "whsec_..." string, never decoded
        assert [d.webhook_id for d in client.list_webhook_deliveries(created.id)] == [created.id]

        assert client.delete_webhook(created.id) == {"status": "deleted"}
        assert client.list_webhooks() == []


def test_encrata_sdk_reads_the_sdk_variant(sandbox: Sandbox) -> None:
    sandbox.set_variant("encrata", "sdk")
    with encrata.Encrata(api_key="sandbox-token", base_url=sandbox.base_url("encrata")) as client:
        created = client.create_webhook("https://hooks.acme.example/e", ["credits.low"])
        assert [w.id for w in client.list_webhooks()] == [created.id]
        assert client.delete_webhook(created.id) == {}  # 204, empty body


def test_encrata_sdk_sees_auth_errors(sandbox: Sandbox) -> None:
    client = encrata.Encrata(api_key="wrong", base_url=sandbox.base_url("encrata"), max_retries=0)
    with client, pytest.raises(encrata.AuthenticationError):
        client.list_webhooks()
