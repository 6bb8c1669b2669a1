"""`reconciler unlock PATH... ORG`: remove an org's lock (contract §5.1) that a run left behind."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.commands import output
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.engine import usecases
from reconciler.manifest import load_manifests


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
    # Loaded as `validate --offline` does: whoever clears a lock at 3 a.m. needs the org's store settings, not
    # the API token of every org in the repository.
    lock = usecases.org_lock(load_manifests(paths, offline=True), name)
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
