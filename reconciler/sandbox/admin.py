"""The `/_sandbox/` admin API, so a sandbox running in another process can be driven over HTTP."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from reconciler.sandbox.backend import Backend
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.router import DEFAULT_ACCOUNT, Incoming, Reply, json_reply
from reconciler.sandbox.wire import Response

PREFIX = "/_sandbox/"

AdminCall = Callable[[Backend, dict[str, Any]], Any]


def _requests(backend: Backend, args: dict[str, Any]) -> Any:
    return [dataclasses.asdict(r) for r in backend.requests()]


def _reset(backend: Backend, args: dict[str, Any]) -> Any:
    backend.reset()
    return {"status": "reset"}


def _faults(backend: Backend, args: dict[str, Any]) -> Any:
    provider = args.pop("provider", None)
    unknown = set(args) - Faults.field_names()
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    backend.set_faults(Faults(**args), provider)
    return {"status": "ok"}


def _variant(backend: Backend, args: dict[str, Any]) -> Any:
    backend.set_variant(str(args["provider"]), str(args["variant"]))
    return {"status": "ok"}


def _tokens(backend: Backend, args: dict[str, Any]) -> Any:
    if args.get("revoke"):
        backend.revoke_token(str(args["token"]))
    else:
        backend.add_token(str(args["token"]), str(args.get("role", "admin")))
    return {"status": "ok"}


def _secrets(backend: Backend, args: dict[str, Any]) -> Any:
    return sorted(backend.secrets())


def _webhooks(backend: Backend, args: dict[str, Any]) -> Any:
    return backend.webhooks(str(args["provider"]), str(args.get("account", DEFAULT_ACCOUNT)))


def _fail_deliveries(backend: Backend, args: dict[str, Any]) -> Any:
    backend.fail_deliveries(str(args["url_substring"]))
    return {"status": "ok"}


def _deliveries(backend: Backend, args: dict[str, Any]) -> Any:
    return backend.record_delivery(
        str(args["provider"]),
        str(args.get("account", DEFAULT_ACCOUNT)),
        str(args["webhook_id"]),
        str(args["status"]),
        args.get("event"),
    )


CALLS: dict[tuple[str, str], AdminCall] = {
    ("GET", "requests"): _requests,
    ("POST", "reset"): _reset,
    ("POST", "faults"): _faults,
    ("POST", "variant"): _variant,
    ("POST", "tokens"): _tokens,
    ("GET", "secrets"): _secrets,
    ("GET", "webhooks"): _webhooks,  # ?provider=&account=
    ("POST", "fail-deliveries"): _fail_deliveries,
    ("POST", "deliveries"): _deliveries,
}


def handle_admin(backend: Backend, incoming: Incoming) -> Reply:
    call = CALLS.get((incoming.method, incoming.path[len(PREFIX) :].strip("/")))
    if call is None:
        return json_reply(Response(404, {"error": "unknown admin call"}))
    try:
        args: Any = json.loads(incoming.body) if incoming.body.strip() else {}
        if not isinstance(args, dict):
            raise ValueError("the body must be a JSON object")
        args.update({k: v[0] for k, v in parse_qs(incoming.query).items()})
        return json_reply(Response(200, call(backend, args)))
    except KeyError as err:
        return json_reply(Response(400, {"error": f"missing or unknown: {err}"}))
    except (ValueError, TypeError) as err:
        return json_reply(Response(400, {"error": str(err)}))
