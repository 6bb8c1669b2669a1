"""Encrata emulator (docs/providers.md §5): ids only in the query string or JSON body, never in the path.

Variant `sdk` is what the vendor's SDKs expect: wrapped lists, 204 on delete, PUT as a full replace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from reconciler.sandbox.common import apply_changes, error_message_only, public
from reconciler.sandbox.faults import ENCRATA_LIMIT
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_token, new_uuid, utc_now
from reconciler.sandbox.wire import ApiError, ApiFacts, ProviderSpec, RateLimitStyle, Request, Response, Route

# "Valid events" of the create call (seed 004).
EVENTS = frozenset({"lookup.completed", "apikey.created", "apikey.revoked", "credits.low", "credits.exhausted"})
FACTS = ApiFacts(
    base_url="https://encrata.com",  # the docs' examples
    other_hosts=frozenset({"api.encrata.com"}),  # the vendor's SDK's default
    events=EVENTS,
    min_events=1,  # "At least one event is required."
    https_only=True,
    active_field="is_active",
    label_field=None,
    description_field="description",
    client_secret_field=None,
    issues_secret=True,
    rotates_in_place=False,  # no rotation call: delete + create
    test="webhook",
    delivery_statuses=frozenset({"pending", "success", "failed"}),
    requests_per_minute=ENCRATA_LIMIT,
    unique_urls=True,  # 409 duplicate
)
SDK = "sdk"
MAX_DELIVERIES = 50


def _hook_id(ctx: Context, body: Fields) -> dict[str, Any]:
    return ctx.account.webhook(body.need_string("id"))


def _refuse_duplicate_url(ctx: Context, url: str, own_id: str | None = None) -> None:
    if any(h["url"] == url and h["id"] != own_id for h in ctx.account.webhooks.values()):
        raise ApiError(409, "a webhook with this URL already exists")


def list_or_get(ctx: Context, req: Request) -> Response:
    if "id" in req.query:
        return Response(200, public(ctx.account.webhook(req.query["id"])))
    hooks = [public(h) for h in ctx.account.webhooks.values()]
    return Response(200, {"webhooks": hooks} if ctx.variant == SDK else hooks)


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    url = body.need_url("url", https_only=FACTS.https_only)
    events = body.events("events", EVENTS, min_items=FACTS.min_events, required=True)
    description = body.string("description", nullable=True)
    _refuse_duplicate_url(ctx, url)
    now = utc_now()
    hook = ctx.account.add(
        {
            "id": new_uuid(),
            "workspace_id": ctx.account.uid,
            "url": url,
            "secret": ctx.issue(new_token("whsec_", 64)),
            "events": events,
            "is_active": True,
            "description": description,
            "created_by": str(uuid.uuid5(uuid.NAMESPACE_OID, ctx.account.uid)),
            "created_at": now,
            "updated_at": now,
        }
    )
    return Response(201, dict(hook))


def update_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    hook = _hook_id(ctx, body)
    url = body.need_url("url", https_only=FACTS.https_only)
    _refuse_duplicate_url(ctx, url, own_id=hook["id"])
    # The vendor SDKs' backend replaces the whole webhook: what a PUT omits is reset (events to none, so a
    # partial update silently unsubscribes: why docs/providers.md says to always send the full object).
    full_replace = ctx.variant == SDK
    events = body.events("events", EVENTS, min_items=FACTS.min_events)
    changes: dict[str, Any] = {
        "url": url,
        "events": [] if full_replace and events is None else events,
        "is_active": body.boolean("is_active", default=True if full_replace else None),
    }
    apply_changes(hook, changes, updated_at=utc_now())
    if full_replace or body.has("description"):
        hook["description"] = body.string("description", nullable=True)
    return Response(200, {"status": "updated"})


def delete_hook(ctx: Context, req: Request) -> Response:
    hook = _hook_id(ctx, Fields(req.body))
    ctx.account.delete(hook["id"])
    return Response(204) if ctx.variant == SDK else Response(200, {"status": "deleted"})


def test_hook(ctx: Context, req: Request) -> Response:
    hook = _hook_id(ctx, Fields(req.body))
    ctx.deliver(hook["id"], hook["url"], "webhook.test")
    # The key is the whole "whsec_…" string, as the docs say (no base64 decoding). The payload is fixed
    # and compact, so a test can recompute the signature.
    payload = json.dumps({"event": "webhook.test", "webhook_id": hook["id"]}, separators=(",", ":"))
    signature = hmac.new(hook["secret"].encode(), payload.encode(), hashlib.sha256).hexdigest()
    return Response(200, {"status": "sent", "url": hook["url"], "signature": signature})


def list_deliveries(ctx: Context, req: Request) -> Response:
    if not req.query.get("webhook_id"):
        raise ApiError(400, "webhook_id is required")
    hook = ctx.account.webhook(req.query["webhook_id"])
    newest = list(reversed(ctx.account.deliveries.get(hook["id"], [])))[:MAX_DELIVERIES]
    items = [
        {
            "id": d["id"],
            "webhook_id": d["webhook_id"],
            "event_type": d["event"],
            "status": d["status"],
            "attempts": d["attempts"],
            "response_status": d["response_status"],
            "last_attempt_at": d["created_at"],
            "created_at": d["created_at"],
        }
        for d in newest
    ]
    return Response(200, {"deliveries": items} if ctx.variant == SDK else items)


SPEC = ProviderSpec(
    name="encrata",
    api_root="/api/webhooks",
    routes=(
        Route("GET", (), list_or_get),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("PUT", (), update_hook, write=True, mutates=True),
        Route("DELETE", (), delete_hook, write=True, mutates=True),
        Route("POST", ("test",), test_hook, write=True),
        Route("GET", ("deliveries",), list_deliveries),
    ),
    error_body=error_message_only,
    forbidden_message="forbidden: your role cannot manage webhooks",
    facts=FACTS,
    variants=frozenset({"reference", SDK}),
    rate_limit=RateLimitStyle(
        # Lifted (`--no-encrata-rate-limit`): still announced, as the docs say every answer carries the headers.
        limit=lambda faults: faults.encrata_rate_limit or ENCRATA_LIMIT,
        enforced=lambda faults: faults.encrata_rate_limit is not None,
        wait_in_body=False,
    ),
)
