"""One account's stored webhooks and deliveries, and the per-request context handlers work with."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.wire import ApiError

MAX_DELIVERIES = 100  # InfraAudit keeps the last 100 attempts; nobody documents more


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_token(prefix: str, hex_chars: int) -> str:
    return prefix + secrets.token_hex(hex_chars // 2)


@dataclass
class Account:
    """Webhooks in the provider's reference shape, *with* their secret; deliveries newest last."""

    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uid: str = field(default_factory=new_uuid)  # e.g. Encrata's workspace_id

    def webhook(self, webhook_id: str) -> dict[str, Any]:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise ApiError(404, "webhook not found", code="not_found")
        return hook

    def add(self, hook: dict[str, Any]) -> dict[str, Any]:
        self.webhooks[hook["id"]] = hook
        return hook

    def delete(self, webhook_id: str) -> None:
        self.webhook(webhook_id)
        del self.webhooks[webhook_id]
        self.deliveries.pop(webhook_id, None)

    def add_delivery(
        self, webhook_id: str, event: str, status: str, *, response_status: int | None, error: str | None
    ) -> dict[str, Any]:
        now = utc_now()
        delivery: dict[str, Any] = {
            "id": new_token("del_", 24),
            "webhook_id": webhook_id,
            "event": event,
            "status": status,
            "attempts": 1,
            "response_status": response_status,
            "response_time_ms": 12,  # no real request is sent: a plausible constant
            "error": error,
            "created_at": now,
        }
        log = self.deliveries.setdefault(webhook_id, [])
        log.append(delivery)
        del log[:-MAX_DELIVERIES]
        return delivery

    def last_delivery(self, webhook_id: str) -> dict[str, Any] | None:
        log = self.deliveries.get(webhook_id)
        return log[-1] if log else None


@dataclass(frozen=True)
class Context:
    """What a route handler may touch: its account, the active variant and two sandbox services."""

    account: Account
    variant: str
    keep_secret: Callable[[str], None]  # every secret issued or received, for leak-scanning tests
    delivery_fails: Callable[[str], bool]  # whether a delivery to this URL is recorded as failed

    def issue(self, secret: str) -> str:
        self.keep_secret(secret)
        return secret

    def deliver(self, webhook_id: str, url: str, event: str) -> dict[str, Any]:
        """A test delivery: recorded, never sent (there is no network here)."""
        if self.delivery_fails(url):
            return self.account.add_delivery(
                webhook_id, event, "failed", response_status=500, error="receiver answered 500"
            )
        return self.account.add_delivery(webhook_id, event, "success", response_status=200, error=None)
