"""`reconciler unlock PATH... ORG`: remove an org's lock (contract §5.1) that a run left behind."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import load
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.runtime.locking import Holder


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
    manifest = load(paths)
    org = next((o for o in manifest.organizations if o.name == name), None)
    if org is None:
        raise ReconcilerError(f"unknown organization '{name}'")
    from reconciler.plugins import open_store

    lock = open_store(manifest.store(org.secret_store)).org_lock(org.name, Holder.this_run())
    holder = lock.holder()
    if holder is None:
        output.emit(f"{org.name} is not locked.", always=True)
        return Exit.OK
    output.emit(f"{org.name} is locked by {holder.describe()}.", always=True)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ReconcilerError("unlock needs --yes when not run on a terminal")
        answer = input("Remove this lock? A run that still holds it would then race another. Only 'yes': ")
        if answer.strip() != "yes":
            output.emit("Unlock cancelled; the lock stays.", always=True)
            return Exit.ERROR
    lock.force_release()
    output.emit(f"{org.name}: lock removed.", always=True)
    return Exit.OK
