"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import Target, add_lock_timeout, add_target, open_target
from reconciler.core import neutral
from reconciler.core.errors import UnsafePlan
from reconciler.core.exits import Exit
from reconciler.engine.applier import OrgApplier


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
        return rotate(target, recreate=args.recreate)
    finally:
        target.session.release_locks()


def rotate(target: Target, *, recreate: bool) -> int:
    applier = OrgApplier(target.session, target.state)
    in_place = target.state.caps.rotate_in_place and not recreate
    entry = target.state.index.get(target.stored_as)
    if not in_place and (target.hook.protect or (entry is not None and entry.protect)):
        # SPEC §4: a protected webhook is never deleted until an apply with `protect: false` recorded that.
        how = " (or rotate in place, without --recreate)" if target.state.caps.rotate_in_place else ""
        raise UnsafePlan(
            f"{target.name} is protected: a new secret here means a new webhook and deleting "
            f"{neutral.text(target.live.id)}; "
            f"set `protect: false` and apply first{how}. Nothing changed"
        )
    if in_place:
        message = applier.rotate(target.hook, target.live, renamed_from=target.stored_as)
    else:
        # A new secret there means a new webhook: created (its secret stored) before the old one goes.
        message = applier.recreate(target.hook, target.live, renamed_from=target.stored_as)
    output.emit(f"{target.name}: {neutral.text(message)}")  # the message quotes the provider's ids
    return Exit.OK
