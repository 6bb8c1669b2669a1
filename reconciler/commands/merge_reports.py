"""`reconciler merge-reports FILE...`: the JSON drift reports of a run's shards as one report (SPEC §7.1)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from reconciler.commands import drift
from reconciler.commands.common import add_format
from reconciler.core.errors import ReconcilerError
from reconciler.engine.merge import merge
from reconciler.manifest.schema import MANIFEST_SCHEMA_PATH

DRIFT_SCHEMA_PATH = MANIFEST_SCHEMA_PATH.with_name("drift.schema.json")


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
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot read the report ({exc.strerror or exc.__class__.__name__})") from None
    except ValueError:
        raise ReconcilerError(f"{path}: not a webhook-reconciler drift report (not JSON)") from None
    with DRIFT_SCHEMA_PATH.open(encoding="utf-8") as handle:
        validator = Draft202012Validator(json.load(handle))
    problem = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "top level"
        # The field, never its value: a foreign file may hold anything.
        raise ReconcilerError(
            f"{path}: not a webhook-reconciler drift report ({where}: does not match schemas/drift.schema.json); "
            "make one with `reconciler drift PATH... --shard K/N -o FILE`"
        )
    result: dict[str, Any] = doc
    return result
