"""`reconciler test PATH... ORG/WEBHOOK`: ask the provider to send a test event."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_target, open_target
from reconciler.core import neutral
from reconciler.core.exits import Exit
from reconciler.engine import usecases


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("test", help="ask the provider to send a test event to a webhook")
    add_target(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = open_target(args.paths, "test")
    result = usecases.send_test(target)
    scope = " (the provider tests all of this org's webhooks at once)" if result.all_webhooks else ""
    if result.status_code is None:
        status = "the receiver's answer is not known (see `reconciler drift` later)"
    else:
        status = f"HTTP {result.status_code}"
    verdict = ("delivered" if result.status_code is not None else "sent") if result.ok else "failed"
    detail = f": {neutral.text(result.message)}" if result.message and not result.ok else ""
    line = f"{target.name} (id {neutral.text(target.live.id)}): test event {verdict}, {status}{detail}{scope}"
    output.emit(line, always=True)
    return Exit.OK if result.ok else Exit.ERROR
