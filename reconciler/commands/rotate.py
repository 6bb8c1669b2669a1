"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.applier import OrgApplier
from reconciler.commands.common import add_target, open_target
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
    target = open_target(args.paths, "rotate")
    applier = OrgApplier(target.session, target.state)
    if target.state.caps.rotate_in_place:
        output.emit(f"{target.name}: {applier.rotate(target.hook, target.live, renamed_from=target.stored_as)}")
        return 0
    if not args.recreate:
        raise ReconcilerError(
            f"{target.state.org.provider} cannot rotate a secret in place; nothing changed. `--recreate` deletes "
            f"and re-creates {target.name} (a new id; receivers must take the new secret)"
        )
    output.emit(f"{target.name}: {applier.recreate(target.hook, target.live, renamed_from=target.stored_as)}")
    return 0
