"""The use cases: plan, apply and drift as functions of their inputs, for the commands (which parse
arguments and render results) and for anyone driving the tool from Python. Terminal work (showing a plan,
asking for confirmation, a progress line) is the caller's, through `ApplyUI`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from reconciler.core.errors import ReconcilerError, UnsafePlan
from reconciler.core.model import NAME_PATTERN, Manifest, Organization, TestResult
from reconciler.core.neutral import text
from reconciler.core.plan import Plan, masked_digest
from reconciler.core.report import DriftReport
from reconciler.core.safety import check_safety
from reconciler.core.secret import Secret
from reconciler.core.selection import select_orgs
from reconciler.core.shards import Shard, select
from reconciler.engine.applier import ApplyReport, OrgApplier, apply_plan
from reconciler.engine.drift import check_drift
from reconciler.engine.reading import OrgState, plan_orgs
from reconciler.engine.recovery import flush_recovery
from reconciler.engine.saved_plans import SavedPlan, check_current, saved_orgs
from reconciler.engine.session import DEFAULT_PARALLELISM, Session
from reconciler.engine.targets import Target
from reconciler.manifest.importing import manifest_text
from reconciler.plugins import CAPABILITIES, open_provider, open_store
from reconciler.runtime.locking import DEFAULT_TIMEOUT, Holder, OrgLock


@dataclass(frozen=True)
class Selection:
    """Which orgs of the manifests: --org patterns, --exclude-org patterns, --shard K/N."""

    orgs: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    shard: Shard | None = None

    def of(self, manifest: Manifest) -> list[Organization]:
        return select(select_orgs(manifest, self.orgs, self.exclude), self.shard)


def plan(manifest: Manifest, selection: Selection, *, parallelism: int = DEFAULT_PARALLELISM, saved: bool) -> Plan:
    """A read-only plan. `saved`: it will be written as JSON (a file, or `--format json`), so it carries the
    digest of its ${env:} values that `apply --plan` checks; scrypt is slow on purpose, so only then."""
    orgs = selection.of(manifest)
    result, _ = plan_orgs(Session(manifest, read_only=True, parallelism=parallelism), orgs)
    result = dataclasses.replace(result, shard=selection.shard)
    if saved:
        result = dataclasses.replace(result, masked_digest=masked_digest(result.manifest_digest, orgs))
    return result


def drift(
    manifest: Manifest,
    selection: Selection,
    *,
    parallelism: int = DEFAULT_PARALLELISM,
    fail_on_delivery_errors: bool = False,
) -> DriftReport:
    session = Session(manifest, read_only=True, parallelism=parallelism)
    orgs = select_orgs(manifest, selection.orgs, selection.exclude)
    return check_drift(session, orgs, fail_on_delivery_errors=fail_on_delivery_errors, shard=selection.shard)


class ApplyUI(Protocol):
    """What apply asks of its caller, in this order."""

    def notice(self, line: str) -> None:
        """Something done before the plan: a recovered secret stored, an index record rewritten."""

    def planned(self, plan: Plan) -> None:
        """The plan made under the locks, before it is checked (metrics count it even if it is refused)."""

    def show(self, plan: Plan) -> None:
        """The plan to apply: checked against the saved one, not yet against the safety rules."""

    def confirm(self, plan: Plan) -> bool:
        """Whether to apply a fresh plan (never asked for a saved one: its review was the approval)."""
        ...

    def applying(self, plan: Plan, orgs: int) -> AbstractContextManager[None]:
        """Around the changes: a progress line, say."""
        ...


@dataclass(frozen=True)
class ApplyOptions:
    parallelism: int = DEFAULT_PARALLELISM
    lock_timeout: float = DEFAULT_TIMEOUT  # one wait for the run, for orgs another run has locked
    allow_deletes: bool = False


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    report: ApplyReport | None = None  # None: nothing was applied (no changes, or not confirmed)
    cancelled: bool = False
    # After every change applied: a fresh plan of the same orgs, which shows nothing when apply converged.
    verification: Plan | None = None


def apply(
    manifest: Manifest,
    ui: ApplyUI,
    options: ApplyOptions,
    *,
    orgs: list[Organization] | None = None,
    saved: SavedPlan | None = None,
) -> ApplyResult:
    """Apply `orgs`, or the orgs of a `saved` plan (read with the manifests it names), which must then be
    made from these very manifests, policy file and ${env:} values. Lock the orgs (contract §5.1), then plan
    under the locks, so that of two racing runs the second sees the first one's work; check a saved plan is
    still current, the safety rules, then apply and verify."""
    if saved is not None:
        orgs = saved_orgs(saved, manifest)
    if orgs is None:
        raise ValueError("apply needs the orgs, or a saved plan")
    session = Session(manifest, read_only=False, parallelism=options.parallelism, lock_timeout=options.lock_timeout)
    try:
        locked_out = session.lock_orgs(orgs)
        for org in (o for o in orgs if o.name not in locked_out):
            for line in flush_recovery(session, org):
                ui.notice(line)
        fresh, states = plan_orgs(session, orgs, unavailable=locked_out)
        ui.planned(fresh)
        if saved is not None:
            check_current(fresh, saved, skip=locked_out)
        ui.show(fresh)
        check_safety(fresh, allow_deletes=options.allow_deletes)
        for line in rewrite_indexes(session, states):
            ui.notice(line)
        if not fresh.has_changes:
            return ApplyResult(fresh)
        if saved is None and not ui.confirm(fresh):
            return ApplyResult(fresh, cancelled=True)
        with ui.applying(fresh, len(states)):
            report = apply_plan(session, fresh, states)
        if report.interrupted or report.failed or fresh.errors:
            return ApplyResult(fresh, report)
        return ApplyResult(fresh, report, verification=verify(session, fresh, states))
    finally:
        session.release_locks()


def rewrite_indexes(session: Session, states: dict[str, OrgState]) -> Iterator[str]:
    """Contract §5: an index record found missing or unreadable is rewritten from the per-webhook records."""
    for state in states.values():
        if state.index_rebuilt:
            session.store(state.org).write_index(state.org.name, state.index)
            yield (
                f"{state.org.name}: the index record was missing or unreadable; rewritten from the per-webhook "
                f"records ({len(state.index)} webhook(s))"
            )


def verify(session: Session, plan: Plan, states: dict[str, OrgState]) -> Plan:
    """Plan the applied orgs again, read-only: what apply did must be what the manifests say."""
    orgs = [states[o.org].org for o in plan.orgs if o.changes and o.org in states]
    check = Session(session.manifest, read_only=True, parallelism=session.parallelism)
    again, _ = plan_orgs(check, orgs)
    return again


def rotate(target: Target, *, recreate: bool) -> str:
    """A new signing secret for one webhook: in place where the API can (and `recreate` is not asked), else a
    new webhook whose secret is stored before the old one goes. A protected webhook is never deleted."""
    applier = OrgApplier(target.session, target.state)
    in_place = target.state.caps.rotate_in_place and not recreate
    entry = target.state.index.get(target.stored_as)
    if not in_place and (target.hook.protect or (entry is not None and entry.protect)):
        how = " (or rotate in place, without --recreate)" if target.state.caps.rotate_in_place else ""
        raise UnsafePlan(
            f"{target.name} is protected: a new secret here means a new webhook and deleting "
            f"{text(target.live.id)}; set `protect: false` and apply first{how}. Nothing changed"
        )
    if in_place:
        return applier.rotate(target.hook, target.live, renamed_from=target.stored_as)
    return applier.recreate(target.hook, target.live, renamed_from=target.stored_as)


# Encrata answers a test with "sent" only; the receiver's answer shows in the delivery history a little later.
_HISTORY_TRIES = 3
_HISTORY_WAIT = 1.0


def send_test(target: Target) -> TestResult:
    """Ask the provider to send a test event to the webhook; where it answers only "sent", the receiver's
    answer is read from the delivery history the test added to (a few tries, ended at once by Ctrl-C)."""
    state, live = target.state, target.live
    if state.caps.test == "none":
        raise ReconcilerError(f"{state.org.provider} has no test endpoint; nothing sent")
    provider = target.session.provider(state.org)
    earlier = {d.id for d in provider.deliveries(live.id)} if state.caps.deliveries else set()
    sent = provider.test(live.id)
    if sent.status_code is not None or not state.caps.deliveries:
        return sent
    for attempt in range(_HISTORY_TRIES):
        added = [d for d in provider.deliveries(live.id) if d.id not in earlier]
        finished = next((d for d in added if d.status != "pending"), None)
        if finished is not None:
            ok = finished.status == "success"
            return TestResult(ok, finished.response_status, None if ok else "the receiver did not accept it")
        if attempt + 1 < _HISTORY_TRIES and target.session.interrupted.wait(_HISTORY_WAIT):
            break
    return TestResult(sent.ok, None, sent.message)


@dataclass(frozen=True)
class ImportRequest:
    provider: str
    base_url: str | None  # None: the provider's documented one
    token: Secret
    token_env: str  # the variable the manifest will reference (`${env:...}`), never the token itself
    org: str | None = None  # None: the provider's name
    secret_store: str | None = None  # a keyring store of this name, added and used


def import_org(request: ImportRequest) -> tuple[str, int, str]:
    """The manifest text for the account's live webhooks (one read-only list), how many, and the org name."""
    caps = CAPABILITIES.get(request.provider)
    if caps is None:
        raise ReconcilerError(f"unknown provider '{request.provider}' (installed: {', '.join(CAPABILITIES)})")
    base_url = (request.base_url or caps.default_base_url or "").rstrip("/")
    if not base_url:
        raise ReconcilerError(f"{request.provider} has no default API URL; give --base-url")
    org = request.org or request.provider
    if not NAME_PATTERN.match(org):
        raise ReconcilerError(f"organization name '{org}' must match {NAME_PATTERN.pattern}")
    live = open_provider(request.provider, base_url, request.token, read_only=True).list()
    written = manifest_text(org, request.provider, base_url, request.token_env, request.secret_store, caps, live)
    return written, len(live), org


def org_lock(manifest: Manifest, name: str) -> OrgLock:
    """The lock of org `name` in its secret store, for `unlock` to read and remove. `manifest` may be loaded
    offline: the org's token is not needed, only its store's settings."""
    outline = manifest.outline(name)
    unread = manifest.declared[0] - len(manifest.outlines)
    hint = " (an environment variable that is not set?): `reconciler validate --offline` shows where"
    if outline is None:
        also = f"; {unread} organization(s) could not be read{hint}" if unread else ""
        raise ReconcilerError(f"unknown organization '{text(name)}'{also}")
    store = outline.secret_store
    if store is None:
        raise ReconcilerError(f"the secret store of organization '{text(name)}' could not be read{hint}")
    unset = dict(manifest.unset_store_variables).get(store)
    if unset:
        names = ", ".join(unset)
        raise ReconcilerError(
            f"secret store '{store}' of organization '{text(name)}' needs environment variables that are not "
            f"set: {names}; set them and run again"
        )
    return open_store(manifest.store(store)).org_lock(name, Holder.this_run())
