"""Ingate emulator (docs/providers.md §1): uuid ids and uuid-looking secrets; `[]` events = all events."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.common import apply_changes, delete_hook, error_message_only, get_hook, list_hooks, public
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_uuid, utc_now
from reconciler.sandbox.wire import ApiFacts, ProviderSpec, Request, Response, Route

# The docs' "Event Types" table (seed 000).
EVENTS = frozenset(
    {
        "key.create",
        "key.revoke",
        "key.rotate",
        "user.invite",
        "user.role_change",
        "user.remove",
        "budget.warning",
        "budget.exceeded",
        "app.create",
        "app.delete",
    }
)
FACTS = ApiFacts(
    base_url="https://api.ingateai.com",
    events=EVENTS,
    min_events=0,  # "Omit the events field or pass an empty array to subscribe to all event types"
    https_only=True,  # reference choice: the docs show only https receivers
    active_field="active",
    label_field=None,
    description_field=None,
    client_secret_field=None,
    issues_secret=True,
    rotates_in_place=False,  # no rotation call: a new secret means delete + create
    test="none",
    delivery_statuses=frozenset(),
)


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    url = body.need_url("url", https_only=FACTS.https_only)
    events = body.events("events", EVENTS, min_items=FACTS.min_events) or []  # omitted or [] both mean all events
    hook = ctx.account.add(
        {
            "id": new_uuid(),
            "url": url,
            "secret": ctx.issue(new_uuid()),  # the docs show a uuid-looking secret
            "events": events,
            "active": True,  # not settable at creation: pausing is a later PUT
            "created_at": utc_now(),
        }
    )
    return Response(201, dict(hook))


def update_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    body = Fields(req.body)
    changes: dict[str, Any] = {
        "url": body.url("url", https_only=FACTS.https_only),
        "events": body.events("events", EVENTS, min_items=FACTS.min_events),
        "active": body.boolean("active"),
    }
    apply_changes(hook, changes)
    return Response(200, public(hook))


SPEC = ProviderSpec(
    name="ingate",
    api_root="/api/v1/webhooks",
    routes=(
        Route("GET", (), list_hooks),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("GET", ("{id}",), get_hook),
        Route("PUT", ("{id}",), update_hook, write=True, mutates=True),
        Route("DELETE", ("{id}",), delete_hook, write=True, mutates=True),
    ),
    error_body=error_message_only,
    forbidden_message="forbidden: webhooks need the Enterprise plan and the admin role",
    facts=FACTS,
    role_for_reads=True,
)
