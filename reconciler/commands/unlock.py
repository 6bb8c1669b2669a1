"""`reconciler unlock PATH... ORG`: remove an org's lock (contract §5.1) that a run left behind."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import load
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.engine import usecases


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("unlock", help="remove an organization's lock left by a run that is gone")
    parser.add_argument(
        "paths", nargs="+", metavar="PATH ... ORG", help="manifest files or directories, then the organization"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    *paths, name = args.paths
    if not paths:
        raise ReconcilerError("usage: reconciler unlock PATH... ORG")
    lock = usecases.org_lock(load(paths), name)
    holder = lock.holder()
    if holder is None:
        output.emit(f"{name} is not locked.", always=True)
        return Exit.OK
    output.emit(f"{name} is locked by {holder.describe()}.", always=True)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ReconcilerError("unlock needs --yes when not run on a terminal")
        answer = input("Remove this lock? A run that still holds it would then race another. Only 'yes': ")
        if answer.strip() != "yes":
            output.emit("Unlock cancelled; the lock stays.", always=True)
            return Exit.ERROR
    lock.force_release()
    output.emit(f"{name}: lock removed.", always=True)
    return Exit.OK
