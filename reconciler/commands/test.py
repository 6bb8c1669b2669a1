"""`reconciler test PATH... ORG/WEBHOOK`: ask the provider to send a test event."""

from __future__ import annotations

import argparse
import time
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_target, open_target
from reconciler.core import neutral
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.core.model import Delivery, TestResult
from reconciler.providers.base import Provider

# Encrata answers a test with "sent" only; the receiver's answer shows in the delivery history a little later.
_HISTORY_TRIES = 3
_HISTORY_WAIT = 1.0


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("test", help="ask the provider to send a test event to a webhook")
    add_target(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = open_target(args.paths, "test")
    state, live = target.state, target.live
    if state.caps.test == "none":
        raise ReconcilerError(f"{state.org.provider} has no test endpoint; nothing sent")
    provider = target.session.provider(state.org)
    earlier = {d.id for d in provider.deliveries(live.id)} if state.caps.deliveries else set()
    result = provider.test(live.id)
    if result.status_code is None and state.caps.deliveries:
        result = from_history(provider, live.id, earlier, result)
    scope = " (the provider tests all of this org's webhooks at once)" if result.all_webhooks else ""
    if result.status_code is None:
        status = "the receiver's answer is not known (see `reconciler drift` later)"
    else:
        status = f"HTTP {result.status_code}"
    verdict = ("delivered" if result.status_code is not None else "sent") if result.ok else "failed"
    detail = f": {neutral.text(result.message)}" if result.message and not result.ok else ""
    line = f"{target.name} (id {neutral.text(live.id)}): test event {verdict}, {status}{detail}{scope}"
    output.emit(line, always=True)
    return Exit.OK if result.ok else 1


def from_history(provider: Provider, webhook_id: str, earlier: set[str], sent: TestResult) -> TestResult:
    """The receiver's answer to the test, from the delivery the test added to the history."""
    for attempt in range(_HISTORY_TRIES):
        added = [d for d in provider.deliveries(webhook_id) if d.id not in earlier]
        finished: Delivery | None = next((d for d in added if d.status != "pending"), None)
        if finished is not None:
            ok = finished.status == "success"
            return TestResult(ok, finished.response_status, None if ok else "the receiver did not accept it")
        if attempt + 1 < _HISTORY_TRIES:
            time.sleep(_HISTORY_WAIT)
    return TestResult(sent.ok, None, sent.message)
