"""Which stored secrets are older than their webhook's `rotate_after` allows.

Only webhooks that declare `rotate_after` cost a store read, so a plan still reads the index once per org
for everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.core.model import Organization, SecretAge
from reconciler.core.rotation import parse_stamp
from reconciler.stores.base import SecretStore


def secrets_due(store: SecretStore, org: Organization, now: datetime | None = None) -> dict[str, SecretAge]:
    """Declared webhook name -> the age of its stored secret, for each one past its `rotate_after`."""
    now = now or datetime.now(UTC)
    due: dict[str, SecretAge] = {}
    for hook in org.webhooks:
        if hook.rotate_after_days is None:
            continue
        for name in (hook.name, *hook.previously):  # a renamed webhook's record is still under its old name
            record = store.read(org.name, name)
            if record is None:
                continue
            since = record.set_at
            if parse_stamp(since) <= now - timedelta(days=hook.rotate_after_days):
                due[hook.name] = SecretAge(record.webhook_id, since)
            break
    return due
