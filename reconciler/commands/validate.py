"""`reconciler validate PATH...`: schema, provider rules and env references; no network."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.commands.common import add_paths, load


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("validate", help="check manifests without touching any API")
    add_paths(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = load(args.paths)
    hooks = sum(len(o.webhooks) for o in manifest.organizations)
    output.emit(
        f"Valid: {len(manifest.organizations)} organization(s), {hooks} webhook(s) in {len(manifest.files)} file(s)."
    )
    return 0
