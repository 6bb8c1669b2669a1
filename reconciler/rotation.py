"""`rotate_after`: which stored secrets are older than their webhook allows.

Only webhooks that declare `rotate_after` cost a store read, so a plan still reads the index once per org
for everything else.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.model import Organization, SecretAge
from reconciler.plan import FieldChange
from reconciler.stores.base import SecretStore

# The pseudo-field a due rotation shows as in a plan; the applier rotates when it sees it.
SECRET_FIELD = "secret"


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
            since = record.rotated_at or record.created_at
            if parse_stamp(since) <= now - timedelta(days=hook.rotate_after_days):
                due[hook.name] = SecretAge(record.webhook_id, since)
            break
    return due


def rotation_field(age: SecretAge, days: int) -> FieldChange:
    """How a due rotation reads in every plan format: when the secret was set, and the rule (never a value)."""
    return FieldChange(SECRET_FIELD, f"set {age.since}", f"new secret (rotate_after {days}d)")


def parse_stamp(stamp: str) -> datetime:
    """An ISO-8601 UTC stamp as the stores keep it; an unreadable one counts as old, so it gets rotated."""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
