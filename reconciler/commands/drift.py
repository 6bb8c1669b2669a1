"""`reconciler drift`: exit 0 in sync, 2 drifted, 1 when an org could not be checked."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.commands.common import add_orgs, add_parallelism, add_paths, load
from reconciler.drift import check_drift
from reconciler.engine import Session, select_orgs
from reconciler.render import json as render_json
from reconciler.render import markdown as render_markdown
from reconciler.render import text as render_text


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("drift", help="compare live webhooks, secrets and deliveries with the manifests")
    add_paths(parser)
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("-o", "--out", metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument(
        "--fail-on-delivery-errors", action="store_true", help="failing deliveries count as drift (exit 2)"
    )
    add_orgs(parser)
    add_parallelism(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = load(args.paths)
    session = Session(manifest, read_only=True, parallelism=args.parallelism)
    report = check_drift(
        session, select_orgs(manifest, args.orgs), fail_on_delivery_errors=args.fail_on_delivery_errors
    )
    if args.out:
        output.write_file(args.out, render_json.render_drift(report))
    if args.format == "json":
        output.emit(render_json.render_drift(report), always=True)
    elif args.format == "markdown":
        output.emit(render_markdown.render_drift(report), always=True)
    else:
        output.emit(render_text.render_drift(report, colour=output.colour_enabled(args.no_color)))
    for org in report.errors:
        output.error(f"error: {org.plan.org}: {org.error}")
    return report.exit_code()
