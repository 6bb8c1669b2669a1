"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.applier import OrgApplier
from reconciler.commands.common import add_target, load, resolve_target
from reconciler.engine import Session
from reconciler.errors import ReconcilerError


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("rotate", help="give a webhook a new signing secret and store it")
    add_target(parser)
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="where the API cannot rotate in place: delete and re-create the webhook "
        "(new id; receivers must take the new secret)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    *paths, target = args.paths
    if not paths:
        raise ReconcilerError("usage: reconciler rotate PATH... ORG/WEBHOOK")
    manifest = load(paths)
    session = Session(manifest, read_only=False)
    state, hook, live = resolve_target(manifest, session, target)
    applier = OrgApplier(session, state)
    if state.caps.rotate_in_place:
        output.emit(f"{target}: {applier.rotate(hook, live)}")
        return 0
    if not args.recreate:
        raise ReconcilerError(
            f"{state.org.provider} cannot rotate a secret in place; nothing changed. `--recreate` deletes and "
            f"re-creates {target} (a new id; receivers must take the new secret)"
        )
    output.emit(f"{target}: {applier.recreate(hook, live)}")
    return 0
