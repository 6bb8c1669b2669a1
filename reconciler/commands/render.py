"""`reconciler render PATH...`: the expanded manifest (contract §2.1), as YAML on stdout."""

from __future__ import annotations

import argparse
from typing import Any

import yaml

from reconciler.commands import output
from reconciler.commands.common import add_paths
from reconciler.core.exits import Exit
from reconciler.manifest import render_manifests


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "render",
        help="print the expanded manifest: every organization with its full webhook list (sets, defaults and "
        "${var:...} resolved; ${env:...} references kept as written)",
    )
    add_paths(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Warnings (a variable not set, a field a provider cannot store) are `validate`'s to show: the rendered
    # manifest needs no environment and carries every field over as written.
    document = render_manifests(args.paths)
    header = f"# Expanded by `reconciler render` from: {' '.join(args.paths)}\n"
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)
    output.emit(header + text, always=True)
    return Exit.OK
