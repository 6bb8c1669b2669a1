"""Helpers shared by the commands: manifest loading, the arguments several commands take, targets."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from reconciler.commands import output
from reconciler.core import shards
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Manifest
from reconciler.core.shards import Shard
from reconciler.engine import targets
from reconciler.engine.session import DEFAULT_PARALLELISM
from reconciler.engine.targets import Target
from reconciler.render import metrics

FORMATS = ("text", "json", "markdown")


def load(paths: Sequence[str], policy_file: str | None = None) -> Manifest:
    """The manifests, validated; every env-sourced value is registered with the redactor as it is read.
    Their warnings (a field the provider cannot store) go to stderr, as Terraform's plan shows its own,
    except under --quiet: they are `validate`'s result, not plan's."""
    from reconciler.manifest import load_manifests

    manifest = load_manifests(paths, policy_file=policy_file)
    metrics.hide_env_names(manifest.organizations)
    if not output.quiet():
        for warning in manifest.warnings:
            output.error(warning.as_warning())
    return manifest


def add_paths(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "paths", nargs="+" if required else "*", metavar="PATH", help="manifest file or directory (read recursively)"
    )


def add_policy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="a policy of its own file (`version: 1` and `policy`), e.g. from the default branch: every URL must "
        "pass it, so the manifests' own policy can only narrow it",
    )


def add_orgs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org",
        action="append",
        dest="orgs",
        metavar="PATTERN",
        help="only organizations matching this name or shell-style pattern, e.g. 'acme-*' (repeatable)",
    )
    parser.add_argument(
        "--exclude-org",
        action="append",
        dest="exclude_orgs",
        metavar="PATTERN",
        help="leave out organizations matching this name or pattern (repeatable)",
    )


def add_parallelism(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parallelism",
        type=int,
        default=DEFAULT_PARALLELISM,
        metavar="N",
        help=f"organizations talking to their APIs at once (default {DEFAULT_PARALLELISM})",
    )


def shard(text: str) -> Shard:
    try:
        return shards.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_selection(parser: argparse.ArgumentParser) -> None:
    """--org, --shard and --parallelism: which organizations, and how many at once."""
    add_orgs(parser)
    parser.add_argument(
        "--shard",
        type=shard,
        metavar="K/N",
        help="only the organizations of shard K of N (0 <= K < N; see `reconciler shards`)",
    )
    add_parallelism(parser)
    parser.add_argument(
        "--metrics-file",
        metavar="FILE",
        help="write the run's results in the Prometheus text format (node_exporter textfile, Pushgateway), "
        "also when it fails",
    )


def lock_timeout(text: str) -> float:
    from reconciler.runtime.locking import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_lock_timeout(parser: argparse.ArgumentParser) -> None:
    from reconciler.runtime.locking import DEFAULT_TIMEOUT

    parser.add_argument(
        "--lock-timeout",
        type=lock_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="DURATION",
        help="wait this long for an organization another run has locked, then fail that organization "
        f"(default {DEFAULT_TIMEOUT / 60:g}m; e.g. 30s, 2m, 0)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    from reconciler.render.markdown import DEFAULT_KEY

    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--comment-key",
        type=comment_key,
        default=DEFAULT_KEY,
        metavar="KEY",
        help="the key in the markdown report's first line, `<!-- webhook-reconciler:<kind>:KEY -->`, so each "
        f"shard or manifest root updates its own comment (default {DEFAULT_KEY}; letters, digits and single "
        "`.`, `_`, `/`, `-` between them, at most 64)",
    )


def comment_key(value: str) -> str:
    """argparse's check of --comment-key: it is written into an HTML comment, so only a safe charset."""
    from reconciler.render.markdown import COMMENT_KEY

    if not COMMENT_KEY.match(value):
        raise argparse.ArgumentTypeError(
            "must be 1 to 64 letters and digits, with single '.', '_', '/' or '-' between them"
        )
    return value


def add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH ... ORG/WEBHOOK",
        help="manifest files or directories, then the webhook as ORG/WEBHOOK",
    )


def open_target(paths: Sequence[str], command: str, *, lock_timeout: float | None = None) -> Target:
    """`PATH... ORG/WEBHOOK`: the manifests, then the webhook (engine/targets.py)."""
    *manifests, name = paths
    if not manifests:
        raise ReconcilerError(f"usage: reconciler {command} PATH... ORG/WEBHOOK")
    return targets.open_target(load(manifests), name, lock_timeout=lock_timeout)
