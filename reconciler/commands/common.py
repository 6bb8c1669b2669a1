"""Helpers shared by the commands: manifest loading, org selection arguments."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from reconciler.engine import OrgState, Session, read_org
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredWebhook, LiveWebhook, Manifest
from reconciler.planner import AmbiguousMatch, match


def load(paths: Sequence[str]) -> Manifest:
    """The manifests, validated; every env-sourced value is registered with the redactor as it is read."""
    from reconciler.manifest import load_manifests

    return load_manifests(paths)


def add_paths(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "paths", nargs="+" if required else "*", metavar="PATH", help="manifest file or directory (read recursively)"
    )


def add_orgs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--org", action="append", dest="orgs", metavar="NAME", help="only this organization (repeatable)"
    )


def add_parallelism(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parallelism", type=int, default=8, metavar="N", help="organizations worked on at once (default 8)"
    )


def add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH ... ORG/WEBHOOK",
        help="manifest files or directories, then the webhook as ORG/WEBHOOK",
    )


def resolve_target(manifest: Manifest, session: Session, target: str) -> tuple[OrgState, DesiredWebhook, LiveWebhook]:
    """ORG/WEBHOOK -> the org's live state, the declared webhook and the live one it is."""
    org_name, _, hook_name = target.partition("/")
    if not org_name or not hook_name:
        raise ReconcilerError(f"expected ORG/WEBHOOK as the last argument, got '{target}'")
    try:
        org = manifest.org(org_name)
    except KeyError:
        raise ReconcilerError(f"unknown organization '{org_name}'") from None
    hook = next((h for h in org.webhooks if h.name == hook_name), None)
    if hook is None:
        raise ReconcilerError(f"organization '{org_name}' declares no webhook '{hook_name}'")
    state = read_org(session, org)
    try:
        found = [m for m in match(org.webhooks, state.live, state.index, state.caps) if m.desired.name == hook_name]
    except AmbiguousMatch as exc:
        raise ReconcilerError(f"{org_name}: {exc}") from None
    if not found:
        raise ReconcilerError(f"{target} does not exist yet; run apply first")
    return state, hook, found[0].live
