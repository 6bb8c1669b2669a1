"""`reconciler plan`: list each org's live webhooks (GET only) and diff them against the manifests."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_format, add_paths, add_policy, add_selection, load
from reconciler.core import neutral
from reconciler.core.exits import Exit
from reconciler.core.plan import Plan
from reconciler.engine import usecases
from reconciler.render import json as render_json
from reconciler.render import markdown as render_markdown
from reconciler.render import metrics
from reconciler.render import text as render_text


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("plan", help="show what apply would change")
    add_paths(parser)
    parser.add_argument("-o", "--out", metavar="FILE", help="save the plan (JSON) for `apply --plan FILE`")
    add_format(parser)
    parser.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes, 0 when there are none"
    )
    add_selection(parser)
    add_policy(parser)
    parser.set_defaults(func=run)


def make_plan(args: argparse.Namespace) -> Plan:
    manifest = load(args.paths, args.policy)
    selection = usecases.Selection(args.orgs, args.exclude_orgs, args.shard)
    saved = bool(args.out) or args.format == "json"  # only a plan written as JSON is applied with --plan
    return usecases.plan(manifest, selection, parallelism=args.parallelism, saved=saved)


def render(plan: Plan, fmt: str, *, colour: bool, key: str) -> str:
    if fmt == "json":
        return render_json.render_plan(plan)
    if fmt == "markdown":
        return render_markdown.render_plan(plan, key)
    return render_text.render_plan(plan, colour=colour)


def run(args: argparse.Namespace) -> int:
    plan = make_plan(args)
    metrics.observe_plan(plan)
    if args.out:
        output.write_file(args.out, render_json.render_plan(plan))
    if args.format == "text" and output.quiet():
        output.emit(render_text.result_line(plan), always=True)  # the result, as apply's summary is
    else:
        text = render(plan, args.format, colour=output.colour_enabled(args.no_color), key=args.comment_key)
        output.emit(text, always=args.format != "text")
    if plan.errors:
        for org in plan.errors:
            output.error(f"error: {org.org}: {neutral.text(org.error)}")
        return Exit.ERROR
    return Exit.CHANGES if args.detailed_exitcode and plan.has_changes else Exit.OK
