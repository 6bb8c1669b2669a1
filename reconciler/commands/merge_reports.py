"""`reconciler merge-reports FILE...`: the JSON drift reports of a run's shards as one report (contract §7.1)."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import drift
from reconciler.commands.common import add_format
from reconciler.engine.documents import read_document
from reconciler.engine.merge import merge


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "merge-reports", help="join the JSON drift reports of `drift --shard K/N` into the unsharded report"
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="a shard's report (`drift --shard K/N -o FILE`)")
    add_format(parser)
    parser.add_argument("-o", "--out", metavar="FILE", help="also write the merged JSON report to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = merge([(path, read_report(path)) for path in args.files])
    return drift.show(report, args)


def read_report(path: str) -> dict[str, Any]:
    """A shard's report, checked against schemas/drift.schema.json before anything trusts its fields."""
    return read_document(
        path,
        schema="drift.schema.json",
        what="drift report",
        remedy="make one with `reconciler drift PATH... --shard K/N -o FILE`",
    )
