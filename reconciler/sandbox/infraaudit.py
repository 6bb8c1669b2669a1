"""InfraAudit emulator (docs/providers.md §2): `wh_` ids, 422 on validation, rate-limit headers everywhere.

Variant `vendor` is the vendor's own server: `is_enabled`, wrapped list, 200 on delete, uuid ids.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.common import apply_changes
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_token, new_uuid, utc_now
from reconciler.sandbox.wire import ApiError, ApiFacts, ProviderSpec, RateLimitStyle, Request, Response, Route

# The vendor's "Webhook events" list (docs/providers.md §2); `ping` is what the test call sends.
EVENTS = frozenset(
    {
        "drift.detected",
        "drift.resolved",
        "alert.created",
        "vulnerability.found",
        "compliance.violation",
        "cost.anomaly",
        "job.completed",
        "remediation.completed",
        "ping",
    }
)
FACTS = ApiFacts(
    base_url="https://api.infraaudit.dev",
    events=EVENTS,
    min_events=1,  # `events` is required; an empty list is a 422
    https_only=True,  # "The HTTPS URL of your receiving endpoint"
    active_field="enabled",
    label_field="name",  # "A human-readable label for this webhook", required
    description_field=None,
    client_secret_field=None,
    issues_secret=True,
    rotates_in_place=False,  # the docs: delete and recreate
    test="webhook",
    delivery_statuses=frozenset({"success", "failed"}),  # the deliveries filter's two values
)
VENDOR = "vendor"
NOMINAL_LIMIT = 1000  # shown in X-RateLimit-Limit; the docs give the headers but no number
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "conflict",
    422: "validation_error",
    500: "internal_error",
    503: "unavailable",
}


def _view(ctx: Context, hook: dict[str, Any]) -> dict[str, Any]:
    last = ctx.account.last_delivery(hook["id"])
    view = {
        "id": hook["id"],
        "name": hook["name"],
        "url": hook["url"],
        "events": hook["events"],
        "enabled": hook["enabled"],
        "created_at": hook["created_at"],
        "last_delivery_status": last["status"] if last else None,
        "last_delivery_at": last["created_at"] if last else None,
    }
    if ctx.variant == VENDOR:
        view["is_enabled"] = view.pop("enabled")
        view["updated_at"] = hook["updated_at"]
        view["last_triggered"] = view["last_delivery_at"]
    return view


def _enabled_key(ctx: Context) -> str:
    return "is_enabled" if ctx.variant == VENDOR else "enabled"


def list_hooks(ctx: Context, req: Request) -> Response:
    hooks = [_view(ctx, h) for h in ctx.account.webhooks.values()]
    if ctx.variant == VENDOR:
        return Response(200, {"webhooks": hooks, "total": len(hooks)})
    return Response(200, hooks)


def get_hook(ctx: Context, req: Request) -> Response:
    return Response(200, _view(ctx, ctx.account.webhook(req.params["id"])))


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body, status=422)
    now = utc_now()
    hook = ctx.account.add(
        {
            "id": new_uuid() if ctx.variant == VENDOR else new_token("wh_", 24),
            "name": body.need_string("name"),
            "url": body.need_url("url", https_only=FACTS.https_only),
            "events": body.events("events", EVENTS, min_items=FACTS.min_events, required=True),
            "enabled": body.boolean(_enabled_key(ctx), default=True),
            "created_at": now,
            "updated_at": now,
            "secret": ctx.issue(new_token("whsec_", 32)),
        }
    )
    if ctx.variant == VENDOR:
        return Response(201, {**_view(ctx, hook), "secret": hook["secret"]})
    return Response(201, {k: hook[k] for k in ("id", "name", "url", "events", "secret")})


def update_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    body = Fields(req.body, status=422)
    changes: dict[str, Any] = {
        "name": body.need_string("name") if body.has("name") else None,
        "url": body.url("url", https_only=FACTS.https_only),
        "events": body.events("events", EVENTS, min_items=FACTS.min_events),
        "enabled": body.boolean(_enabled_key(ctx)),
    }
    apply_changes(hook, changes, updated_at=utc_now())
    return Response(200, _view(ctx, hook))


def delete_hook(ctx: Context, req: Request) -> Response:
    ctx.account.delete(req.params["id"])
    if ctx.variant == VENDOR:
        return Response(200, {"message": "webhook deleted"})
    return Response(204)


def test_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    delivery = ctx.deliver(hook["id"], hook["url"], "ping")
    result = {"status": delivery["status"], "response_status": delivery["response_status"]}
    if delivery["error"]:
        result["error"] = delivery["error"]
    return Response(200, result)


def _int_param(req: Request, name: str, default: int, maximum: int) -> int:
    raw = req.query.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ApiError(
            422,
            f"{name} must be an integer from 1 to {maximum}",
            code="validation_error",
            details={name: "out of range"},
        )
    return int(raw)


def list_deliveries(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    status = req.query.get("status")
    if status is not None and status not in FACTS.delivery_statuses:
        raise ApiError(
            422,
            "status must be success or failed",
            code="validation_error",
            details={"status": "must be success or failed"},
        )
    page = _int_param(req, "page", 1, 10_000)
    per_page = _int_param(req, "per_page", 20, 100)
    log = [d for d in reversed(ctx.account.deliveries.get(hook["id"], [])) if status in (None, d["status"])]
    window = log[(page - 1) * per_page : page * per_page]
    return Response(
        200,
        [
            {
                "id": d["id"],
                "event": d["event"],
                "attempt": d["attempts"],
                "status": d["status"],
                "response_status": d["response_status"],
                "response_time_ms": d["response_time_ms"],
                "created_at": d["created_at"],
            }
            for d in window
        ],
    )


def error_body(err: ApiError, variant: str) -> dict[str, Any]:
    if variant == VENDOR:
        return {"success": False, "error": err.message}
    body: dict[str, Any] = {"error": err.message}
    code = err.code or _CODES.get(err.status)
    if code and err.status != 429:  # the documented 429 body is exactly {"error", "retryAfter"}
        body["code"] = code
    if err.details:
        body["details"] = err.details
    return body


SPEC = ProviderSpec(
    name="infraaudit",
    api_root="/api/v1/webhooks",
    routes=(
        Route("GET", (), list_hooks),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("GET", ("{id}",), get_hook),
        Route("PUT", ("{id}",), update_hook, write=True, mutates=True),
        Route("DELETE", ("{id}",), delete_hook, write=True, mutates=True),
        Route("POST", ("{id}", "test"), test_hook, write=True),
        Route("GET", ("{id}", "deliveries"), list_deliveries),
    ),
    error_body=error_body,
    forbidden_message="forbidden: this token's role cannot manage webhooks",
    facts=FACTS,
    variants=frozenset({"reference", VENDOR}),
    rate_limit=RateLimitStyle(limit=lambda faults: NOMINAL_LIMIT, enforced=lambda faults: False, wait_in_body=True),
)
