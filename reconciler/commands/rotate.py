"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_lock_timeout, add_target, open_target
from reconciler.core import neutral
from reconciler.core.exits import Exit
from reconciler.engine import usecases


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("rotate", help="give a webhook a new signing secret and store it")
    add_target(parser)
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="delete and re-create the webhook even where the API can rotate in place (a new id). Where it "
        "cannot (Ingate, InfraAudit, Encrata), rotate always re-creates",
    )
    add_lock_timeout(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = open_target(args.paths, "rotate", lock_timeout=args.lock_timeout)
    try:
        message = usecases.rotate(target, recreate=args.recreate)
        output.emit(f"{target.name}: {neutral.text(message)}")  # the message quotes the provider's ids
        return Exit.OK
    finally:
        target.session.release_locks()
