"""The Hookrelay API's emulator for `reconciler sandbox`, written from the API's description (README.md), not
from the plugin's capabilities: the conformance kit compares the two copies."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.common import apply_changes, delete_hook, error_message_only, public
from reconciler.sandbox.fields import Fields
from reconciler.sandbox.state import Context, new_token, utc_now
from reconciler.sandbox.wire import ApiFacts, ProviderSpec, Request, Response, Route

TOPICS = frozenset({"message.sent", "message.failed", "contact.created", "contact.deleted"})
FACTS = ApiFacts(
    base_url="https://api.hookrelay.example",
    events=TOPICS,
    min_events=1,
    https_only=True,
    active_field="paused",
    label_field="name",
    description_field=None,
    client_secret_field=None,
    issues_secret=True,
    rotates_in_place=True,
    test="none",
    delivery_statuses=frozenset(),
)


def list_hooks(ctx: Context, req: Request) -> Response:
    return Response(200, {"hooks": [public(h) for h in ctx.account.webhooks.values()]})


def create_hook(ctx: Context, req: Request) -> Response:
    body = Fields(req.body)
    hook = ctx.account.add(
        {
            "id": new_token("hr_", 16),
            "name": body.string("name", nullable=True),
            "target": body.need_url("target", https_only=FACTS.https_only),
            "topics": body.events("topics", TOPICS, min_items=FACTS.min_events),
            "paused": body.boolean("paused", default=False),
            "created_at": utc_now(),
            "secret": ctx.issue(new_token("hrsec_", 32)),
        }
    )
    return Response(201, {**public(hook), "signing_secret": hook["secret"]})


def update_hook(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    body = Fields(req.body)
    changes: dict[str, Any] = {
        "target": body.url("target", https_only=FACTS.https_only),
        "topics": body.events("topics", TOPICS, min_items=FACTS.min_events),
        "paused": body.boolean("paused"),
        "name": body.string("name", nullable=True),
    }
    apply_changes(hook, changes)
    return Response(200, public(hook))


def new_secret(ctx: Context, req: Request) -> Response:
    hook = ctx.account.webhook(req.params["id"])
    hook["secret"] = ctx.issue(new_token("hrsec_", 32))
    return Response(200, {"signing_secret": hook["secret"]})


SPEC = ProviderSpec(
    name="hookrelay",
    api_root="/api/v2/hooks",
    routes=(
        Route("GET", (), list_hooks),
        Route("POST", (), create_hook, write=True, mutates=True),
        Route("PATCH", ("{id}",), update_hook, write=True, mutates=True),
        Route("DELETE", ("{id}",), delete_hook, write=True, mutates=True),
        Route("POST", ("{id}", "signing-secret"), new_secret, write=True, mutates=True),
    ),
    error_body=error_message_only,
    forbidden_message="forbidden: the token lacks hooks:write",
    facts=FACTS,
)
