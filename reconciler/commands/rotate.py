"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.applier import OrgApplier
from reconciler.commands.common import add_target, open_target


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("rotate", help="give a webhook a new signing secret and store it")
    add_target(parser)
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="delete and re-create the webhook even where the API can rotate in place (a new id). Where it "
        "cannot (Ingate, InfraAudit, Encrata), rotate always re-creates",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = open_target(args.paths, "rotate")
    applier = OrgApplier(target.session, target.state)
    if target.state.caps.rotate_in_place and not args.recreate:
        message = applier.rotate(target.hook, target.live, renamed_from=target.stored_as)
    else:
        # A new secret there means a new webhook: created (its secret stored) before the old one goes.
        message = applier.recreate(target.hook, target.live, renamed_from=target.stored_as)
    output.emit(f"{target.name}: {message}")
    return 0
