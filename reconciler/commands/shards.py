"""`reconciler shards PATH... --count N`: which shard of N each organization is in (contract §4, §7.1)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_paths
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.core.shards import shard_of
from reconciler.manifest import load_manifests


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of shards, at least 1, got '{text}'")
    return int(text)


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("shards", help="show which shard of N each organization is in (for --shard K/N)")
    add_paths(parser)
    parser.add_argument("--count", type=positive, required=True, metavar="N", help="the number of shards")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Loaded as `validate --offline` does: a shard depends on token references, never their values, so an
    # operator's laptop without the CI secrets gets the same assignment as the pipeline.
    manifest = load_manifests(args.paths, offline=True)
    outlined = {o.name for o in manifest.outlines}
    if len(outlined) < manifest.declared[0]:
        raise ReconcilerError(
            f"{manifest.declared[0] - len(outlined)} organization(s) have a name or provider that could not be "
            "read (an environment variable that is not set?): `reconciler validate --offline` shows where"
        )
    assignment = {org.name: shard_of(org, args.count) for org in manifest.outlines}
    output.emit(json.dumps({"count": args.count, "shards": assignment}, indent=2, sort_keys=True), always=True)
    return Exit.OK
