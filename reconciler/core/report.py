"""The drift report: per org its plan, and each managed webhook's secret status and delivery health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconciler.core.exits import Exit
from reconciler.core.plan import OrgPlan
from reconciler.core.shards import Shard

SecretStatus = Literal["stored", "missing", "stale"]
Health = Literal["ok", "failing", "unknown"]


@dataclass(frozen=True)
class WebhookDrift:
    name: str
    webhook_id: str
    secret: SecretStatus
    delivery: Health
    delivery_detail: str | None = None


@dataclass(frozen=True)
class OrgDrift:
    plan: OrgPlan
    webhooks: tuple[WebhookDrift, ...] = ()

    @property
    def error(self) -> str | None:
        return self.plan.error

    @property
    def secrets_not_stored(self) -> tuple[WebhookDrift, ...]:
        return tuple(w for w in self.webhooks if w.secret in ("missing", "stale"))

    @property
    def delivery_failures(self) -> tuple[WebhookDrift, ...]:
        return tuple(w for w in self.webhooks if w.delivery == "failing")

    def drifted(self, *, fail_on_delivery_errors: bool) -> bool:
        unmanaged = bool(self.plan.unmanaged) and not self.plan.unmanaged_ignored
        deliveries = fail_on_delivery_errors and bool(self.delivery_failures)
        return bool(self.plan.changes) or unmanaged or bool(self.secrets_not_stored) or deliveries


@dataclass(frozen=True)
class DriftReport:
    manifest_digest: str
    orgs: tuple[OrgDrift, ...]
    fail_on_delivery_errors: bool = False
    shard: Shard | None = None  # made with --shard K/N: only that shard's orgs ...
    fleet: tuple[str, ...] = ()  # ... of these (every org selected, in order): what merge-reports must cover

    @property
    def errors(self) -> tuple[OrgDrift, ...]:
        return tuple(o for o in self.orgs if o.error is not None)

    @property
    def drifted(self) -> tuple[OrgDrift, ...]:
        return tuple(o for o in self.orgs if o.drifted(fail_on_delivery_errors=self.fail_on_delivery_errors))

    def exit_code(self) -> int:
        if self.errors:
            return Exit.ERROR  # an org that could not be checked is never "in sync"
        return Exit.CHANGES if self.drifted else Exit.OK
