"""`reconciler drift`: exit 0 in sync, 2 drifted, 1 when an org could not be checked."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_format, add_paths, add_policy, add_selection, load
from reconciler.core import neutral
from reconciler.core.report import DriftReport
from reconciler.engine import usecases
from reconciler.render import json as render_json
from reconciler.render import markdown as render_markdown
from reconciler.render import metrics
from reconciler.render import text as render_text


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("drift", help="compare live webhooks, secrets and deliveries with the manifests")
    add_paths(parser)
    add_format(parser)
    parser.add_argument("-o", "--out", metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument(
        "--fail-on-delivery-errors", action="store_true", help="failing deliveries count as drift (exit 2)"
    )
    add_selection(parser)
    add_policy(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = load(args.paths, args.policy)
    report = usecases.drift(
        manifest,
        usecases.Selection(args.orgs, args.exclude_orgs, args.shard),
        parallelism=args.parallelism,
        fail_on_delivery_errors=args.fail_on_delivery_errors,
    )
    metrics.observe_drift(report)
    return show(report, args)


def show(report: DriftReport, args: argparse.Namespace) -> int:
    """Print (and with -o FILE save) the report; the exit code is drift's rule (contract §4)."""
    if args.out:
        output.write_file(args.out, render_json.render_drift(report))
    if args.format == "json":
        output.emit(render_json.render_drift(report), always=True)
    elif args.format == "markdown":
        output.emit(render_markdown.render_drift(report, args.comment_key), always=True)
    elif output.quiet():
        output.emit(render_text.drift_result(report), always=True)  # the result, also at exit 1 and 2
    else:
        output.emit(render_text.render_drift(report, colour=output.colour_enabled(args.no_color)))
    for org in report.errors:
        output.error(f"error: {org.plan.org}: {neutral.text(org.error)}")
    return report.exit_code()
