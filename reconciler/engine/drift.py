"""Drift: the plan of each org, plus secret status and delivery health of every managed webhook."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import LiveWebhook, Organization
from reconciler.core.plan import OrgPlan
from reconciler.core.planner import match, plan_org
from reconciler.core.report import DriftReport, Health, OrgDrift, SecretStatus, WebhookDrift
from reconciler.core.shards import Shard
from reconciler.engine.parallel import parallel_map
from reconciler.engine.reading import OrgState, read_org
from reconciler.engine.session import Session
from reconciler.providers.base import Provider


def check_drift(
    session: Session,
    orgs: Iterable[Organization],
    *,
    fail_on_delivery_errors: bool,
    shard: Shard | None = None,
) -> DriftReport:
    """The drift of `orgs`; with `shard`, of those of its orgs that the shard keeps."""
    fleet = list(orgs)
    mine = fleet if shard is None else [o for o in fleet if shard.keeps(o)]
    results = parallel_map(lambda org: drift_org(session, org), mine, session.parallelism)
    names = tuple(o.name for o in fleet) if shard is not None else ()
    return DriftReport(session.manifest.digest, tuple(results), fail_on_delivery_errors, shard, names)


def drift_org(session: Session, org: Organization) -> OrgDrift:
    try:
        state = read_org(session, org)
    except ReconcilerError as exc:
        return OrgDrift(OrgPlan(org.name, org.provider, error=f"could not read: {exc}"))
    plan = plan_org(org, state.caps, state.live, state.index, state.rotation_due, state.index_complete)
    if plan.error is not None:
        return OrgDrift(plan)
    try:
        webhooks = tuple(
            webhook_drift(session, state, m.desired.name, m.via_name, m.live)
            for m in match(org.webhooks, state.live, state.index, state.caps)
        )
    except ReconcilerError as exc:
        return OrgDrift(OrgPlan(org.name, org.provider, error=f"could not check: {exc}"))
    return OrgDrift(plan, webhooks)


def webhook_drift(session: Session, state: OrgState, name: str, via: str, live: LiveWebhook) -> WebhookDrift:
    record = session.store(state.org).read(state.org.name, via)
    # No record is a missing secret (contract §4, exit 2) whatever the reason: deleted from the store, or never
    # stored because the webhook was adopted by label or URL (made in a console, or brought in by `import`).
    # Either way nobody can verify its deliveries with a stored secret until `rotate` stores one.
    secret: SecretStatus = "missing" if record is None else "stored" if record.webhook_id == live.id else "stale"
    health, detail = delivery_health(session.provider(state.org), state, live)
    return WebhookDrift(name, live.id, secret, health, detail)


def delivery_health(provider: Provider, state: OrgState, live: LiveWebhook) -> tuple[Health, str | None]:
    if live.suppressed:
        return "failing", "deliveries suppressed by the provider"
    if live.last_delivery_status is not None:
        failed = live.last_delivery_status.lower() in ("failed", "failure", "error")
        return ("failing", f"last delivery {live.last_delivery_status}") if failed else ("ok", None)
    if not state.caps.deliveries:
        return "unknown", None
    recent = provider.deliveries(live.id)
    if not recent:
        return "unknown", None
    latest = max(recent, key=lambda d: d.created_at or "")
    if latest.status == "failed":
        return "failing", f"last delivery failed (HTTP {latest.response_status})"
    return "ok", None
