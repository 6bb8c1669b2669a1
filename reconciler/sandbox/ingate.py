"""Ingate emulator (PROVIDERS.md §1): uuid ids and uuid-looking secrets; `[]` events = all events."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.fields import Fields, catalog
from reconciler.sandbox.state import Context, new_uuid, utc_now
from reconciler.sandbox.wire import ApiError, ProviderSpec, Request, Response, Route

EVENTS = catalog("ingate")


def _public(hook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hook.items() if k != "secret"}


def list_hooks(ctx: Context, req: Request) -> Response:
    return Response(200, [_public(h) for h in ctx.account.webhooks.values()])


def get_hook(ctx: Context, req: Request) -> Response:
    return Response(200, _public(ctx.account.webhook(req.params["id"])))


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    url = body.need_url("url", https_only=True)
    events = body.events("events", EVENTS, min_items=0) or []  # omitted or [] both mean all events
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
        "url": body.url("url", https_only=True),
        "events": body.events("events", EVENTS, min_items=0),
        "active": body.boolean("active"),
    }
    hook.update({k: v for k, v in changes.items() if v is not None})
    return Response(200, _public(hook))


def delete_hook(ctx: Context, req: Request) -> Response:
    ctx.account.delete(req.params["id"])
    return Response(204)


def error_body(err: ApiError, variant: str) -> dict[str, Any]:
    return {"error": err.message}


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
    error_body=error_body,
    forbidden_message="forbidden: webhooks need the Enterprise plan and the admin role",
)
