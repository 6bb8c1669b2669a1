"""`reconciler test PATH... ORG/WEBHOOK`: ask the provider to send a test event."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.commands.common import add_target, load, resolve_target
from reconciler.engine import Session
from reconciler.errors import ReconcilerError


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("test", help="ask the provider to send a test event to a webhook")
    add_target(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    *paths, target = args.paths
    if not paths:
        raise ReconcilerError("usage: reconciler test PATH... ORG/WEBHOOK")
    manifest = load(paths)
    session = Session(manifest, read_only=False)
    state, _, live = resolve_target(manifest, session, target)
    if state.caps.test == "none":
        raise ReconcilerError(f"{state.org.provider} has no test endpoint; nothing sent")
    result = session.provider(state.org).test(live.id)
    scope = " (the provider tests all of this org's webhooks at once)" if result.all_webhooks else ""
    status = f"HTTP {result.status_code}" if result.status_code is not None else "no HTTP status"
    verdict = "delivered" if result.ok else "failed"
    detail = f": {result.message}" if result.message and not result.ok else ""
    output.emit(f"{target} (id {live.id}): test event {verdict}, {status}{detail}{scope}")
    return 0 if result.ok else 1
