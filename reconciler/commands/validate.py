"""`reconciler validate PATH... [--offline]`: schema, provider rules and env references; no network."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_paths, add_policy
from reconciler.core.exits import Exit
from reconciler.manifest import load_manifests


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("validate", help="check manifests without touching any API")
    add_paths(parser)
    parser.add_argument(
        "--offline",
        action="store_true",
        help="need no environment: a ${env:...} variable that is not set is a warning, and the checks that "
        "need its value are skipped (pre-commit hooks, editors, laptops without CI secrets)",
    )
    add_policy(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = load_manifests(args.paths, offline=args.offline, policy_file=args.policy)
    for warning in manifest.warnings:  # validate's findings: shown under --quiet too
        output.error(warning.as_warning())
    orgs, hooks = manifest.declared
    warned = f", {len(manifest.warnings)} warning(s)" if manifest.warnings else ""
    within = f", within the policy of {args.policy}" if args.policy else ""
    output.emit(
        f"Valid: {orgs} organization(s), {hooks} webhook(s) in {len(manifest.files)} file(s){within}{warned}."
    )
    return Exit.OK
