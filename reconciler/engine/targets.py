"""One declared webhook that exists live, as `rotate` and `test` work on it (ORG/WEBHOOK)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredWebhook, LiveWebhook, Manifest
from reconciler.core.neutral import text
from reconciler.core.planner import AmbiguousMatch, match
from reconciler.engine.reading import OrgState, read_org
from reconciler.engine.session import Session


def resolve_target(
    manifest: Manifest, session: Session, target: str
) -> tuple[OrgState, DesiredWebhook, LiveWebhook, str]:
    """ORG/WEBHOOK -> the org's live state, the declared webhook, the live one it is, and the name its store
    records are under (an earlier name while a rename is not applied yet)."""
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
        stored = next((e.webhook_id for n in (hook_name, *hook.previously) if (e := state.index.get(n))), "")
        if stored:  # applied once, then deleted behind the tool's back
            raise ReconcilerError(
                f"{target} (id {text(stored)} in the store) is gone from the provider; apply re-creates it"
            )
        raise ReconcilerError(f"{target} does not exist yet; run apply first")
    return state, hook, found[0].live, found[0].via_name


@dataclass(frozen=True)
class Target:
    """One declared webhook that exists live, as `rotate` and `test` work on it."""

    name: str  # ORG/WEBHOOK, as given
    session: Session
    state: OrgState
    hook: DesiredWebhook
    live: LiveWebhook
    stored_as: str  # the name its store records are under: hook.name, or an earlier name not yet renamed


def open_target(manifest: Manifest, name: str, *, lock_timeout: float | None = None) -> Target:
    """ORG/WEBHOOK: open a session that may write, and find the webhook. With `lock_timeout` (a command that
    writes), the org is locked first (contract §5.1): the caller releases it with
    `target.session.release_locks()`."""
    session = Session(manifest, read_only=False)
    try:
        if lock_timeout is not None:
            session.lock_timeout = lock_timeout
            org_name = name.partition("/")[0]
            org = next((o for o in manifest.organizations if o.name == org_name), None)  # unknown: said below
            if org is not None and (why := session.lock_orgs([org]).get(org_name)):
                raise ReconcilerError(f"{org_name}: {why}")
        state, hook, live, stored_as = resolve_target(manifest, session, name)
    except BaseException:
        session.release_locks()
        raise
    return Target(name, session, state, hook, live, stored_as)
