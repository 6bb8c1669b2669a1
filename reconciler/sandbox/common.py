"""Handlers and helpers that several emulators share word for word; each provider module still declares
its own routes, so what an API answers stays readable in one place."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.state import Context
from reconciler.sandbox.wire import ApiError, Request, Response


def public(hook: dict[str, Any]) -> dict[str, Any]:
    """The stored webhook as reads show it: everything but the secret."""
    return {k: v for k, v in hook.items() if k != "secret"}


def apply_changes(hook: dict[str, Any], changes: dict[str, Any], **stamps: Any) -> None:
    """A partial update: a field the request omitted (None) keeps its value; `stamps` always apply."""
    hook.update({k: v for k, v in changes.items() if v is not None}, **stamps)


def list_hooks(ctx: Context, req: Request) -> Response:
    """`GET <root>`: a bare list of the account's webhooks, secrets dropped."""
    return Response(200, [public(h) for h in ctx.account.webhooks.values()])


def get_hook(ctx: Context, req: Request) -> Response:
    """`GET <root>/{id}`, secret dropped."""
    return Response(200, public(ctx.account.webhook(req.params["id"])))


def delete_hook(ctx: Context, req: Request) -> Response:
    """`DELETE <root>/{id}` answered 204."""
    ctx.account.delete(req.params["id"])
    return Response(204)


def error_message_only(err: ApiError, variant: str) -> dict[str, Any]:
    """The simplest error shape: `{"error": message}`."""
    return {"error": err.message}
