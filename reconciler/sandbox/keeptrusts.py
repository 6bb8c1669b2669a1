"""Keeptrusts emulator (docs/providers.md §3): `wh_` ids, optional client secret, rotate-secret in place."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.common import apply_changes, delete_hook, error_message_only, get_hook, list_hooks, public
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_token, utc_now
from reconciler.sandbox.wire import ApiFacts, ProviderSpec, Request, Response, Route

# The vendor documents two event lists (seed 002 has the shorter one); the API accepts their union.
EVENTS = frozenset(
    {
        "event.created",
        "event.blocked",
        "event.allowed",
        "event.redacted",
        "escalation.created",
        "escalation.resolved",
        "export.completed",
        "gateway.health_changed",
        "budget.threshold_reached",
        "config.deployed",
        "configuration.updated",
        "configuration.deployed",
    }
)
FACTS = ApiFacts(
    base_url=None,  # each tenant has its own API host
    events=EVENTS,
    min_events=0,  # reference choice: omitted or [] = every event
    https_only=True,
    active_field="enabled",
    label_field="name",  # the console's endpoint name
    description_field=None,
    client_secret_field="secret",  # optional: generated when the client sends none
    issues_secret=True,
    rotates_in_place=True,  # `kt webhook rotate-secret`
    test="webhook",
    delivery_statuses=frozenset({"success", "failed", "pending"}),
)


def _new_secret() -> str:
    return new_token("whsec_", 48)


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    url = body.need_url("url", https_only=FACTS.https_only)
    # Omitted or null: not supplied, so generated. An empty string is refused.
    client_secret = None if body.string("secret", nullable=True) is None else body.need_string("secret")
    hook = ctx.account.add(
        {
            "id": new_token("wh_", 24),
            "name": body.string("name", nullable=True),
            "url": url,
            "events": body.events("events", EVENTS, min_items=FACTS.min_events) or [],  # omitted or [] = all events
            "enabled": body.boolean("enabled", default=True),
            "created_at": utc_now(),
            "secret": ctx.issue(client_secret or _new_secret()),
        }
    )
    return Response(201, dict(hook))


def update_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    body = Fields(req.body)
    changes: dict[str, Any] = {
        "url": body.url("url", https_only=FACTS.https_only),
        "events": body.events("events", EVENTS, min_items=FACTS.min_events),
        "enabled": body.boolean("enabled"),
    }
    apply_changes(hook, changes)
    if body.has("name"):  # null clears the label
        hook["name"] = body.string("name", nullable=True)
    return Response(200, public(hook))


def test_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    delivery = ctx.deliver(hook["id"], hook["url"], "webhook.test")
    result = {"delivered": delivery["status"] == "success", "status_code": delivery["response_status"]}
    if delivery["error"]:
        result["error"] = delivery["error"]
    return Response(200, result)


def rotate_secret(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    hook["secret"] = ctx.issue(_new_secret())  # the old one stops verifying at once
    return Response(200, {"id": hook["id"], "secret": hook["secret"]})


def list_deliveries(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    return Response(
        200,
        [
            {
                "id": d["id"],
                "event": d["event"],
                "status": d["status"],
                "response_code": d["response_status"],
                "attempts": d["attempts"],
                "error": d["error"],
                "created_at": d["created_at"],
            }
            for d in reversed(ctx.account.deliveries.get(hook["id"], []))
        ],
    )


SPEC = ProviderSpec(
    name="keeptrusts",
    api_root="/v1/webhooks",
    routes=(
        Route("GET", (), list_hooks),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("GET", ("{id}",), get_hook),
        Route("PUT", ("{id}",), update_hook, write=True, mutates=True),
        Route("DELETE", ("{id}",), delete_hook, write=True, mutates=True),
        Route("POST", ("{id}", "test"), test_hook, write=True),
        Route("POST", ("{id}", "rotate-secret"), rotate_secret, write=True, mutates=True),
        Route("GET", ("{id}", "deliveries"), list_deliveries),
    ),
    error_body=error_message_only,
    forbidden_message="forbidden: token lacks scope webhooks:write",
    facts=FACTS,
)
