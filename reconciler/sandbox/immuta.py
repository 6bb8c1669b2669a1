"""Immuta Request-app emulator (docs/providers.md §4): client-supplied `signingKey`, create answers 200.

No events, no active flag, no get-by-id; the test call tests every configured webhook at once.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from reconciler.sandbox.common import apply_changes, delete_hook
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_uuid
from reconciler.sandbox.wire import ApiError, ApiFacts, ProviderSpec, Request, Response, Route

FACTS = ApiFacts(
    base_url="https://na.api.immutacloud.com/marketplace",
    other_hosts=frozenset({"eu.api.immutacloud.com", "ap.api.immutacloud.com"}),  # "{na|eu|ap}.api..."
    events=None,  # every webhook gets every event
    min_events=0,
    https_only=False,  # a `uri`; TLS verification can even be switched off
    active_field=None,  # `suppressed` is the service's own, read-only
    label_field=None,
    description_field=None,
    client_secret_field="signingKey",
    issues_secret=False,  # the client's key or none at all
    rotates_in_place=True,  # "Reset secret": a PUT with a new signingKey
    test="all",  # "send out a test payload to all the configured webhooks"
    delivery_statuses=frozenset(),
    extra_fields=frozenset({"verifyTls"}),
)


def _view(hook: dict[str, Any]) -> dict[str, Any]:
    # The key is write-only: reads say only whether one is set.
    return {**hook, "signingKey": bool(hook["signingKey"])}


def _signing_key(ctx: Context, body: Fields) -> str | None:
    key = body.string("signingKey", nullable=True)
    if key:
        ctx.issue(key)
    return key


def list_hooks(ctx: Context, req: Request) -> Response:
    return Response(200, [_view(h) for h in ctx.account.webhooks.values()])


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    hook = ctx.account.add(
        {
            "id": new_uuid(),
            "url": body.need_url("url", https_only=FACTS.https_only),
            "verifyTls": body.boolean("verifyTls", default=True),
            "signingKey": _signing_key(ctx, body),
            "suppressed": False,  # read-only: only the service pauses deliveries
        }
    )
    return Response(200, _view(hook))


def update_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    body = Fields(req.body)
    changes: dict[str, Any] = {
        "url": body.url("url", https_only=FACTS.https_only),
        "verifyTls": body.boolean("verifyTls"),
    }
    apply_changes(hook, changes)
    if body.has("signingKey"):  # a new key is how a secret is reset
        hook["signingKey"] = _signing_key(ctx, body)
    return Response(200, _view(hook))


def test_all(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    url = body.need_url("url", https_only=FACTS.https_only)
    _signing_key(ctx, body)
    targets = [h["url"] for h in ctx.account.webhooks.values()] or [url]
    failed = [t for t in targets if ctx.delivery_fails(t)]
    if failed:
        return Response(
            200,
            {
                "status": "failure",
                "httpStatusCode": 500,
                "errorMessage": f"{len(failed)} of {len(targets)} webhooks answered 500",
            },
        )
    return Response(200, {"status": "success", "httpStatusCode": 200})


def error_body(err: ApiError, variant: str) -> dict[str, Any]:
    return {"message": err.message, "error": HTTPStatus(err.status).phrase, "statusCode": err.status}


SPEC = ProviderSpec(
    name="immuta",
    api_root="/api/notification/webhook",
    base_suffix="/marketplace",
    routes=(
        Route("GET", (), list_hooks),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("POST", ("test",), test_all, write=True),
        Route("PUT", ("{id}",), update_hook, write=True, mutates=True),
        Route("DELETE", ("{id}",), delete_hook, write=True, mutates=True),
    ),
    error_body=error_body,
    forbidden_message="APPLICATION_ADMIN permission required",
    facts=FACTS,
    role_for_reads=True,
)
