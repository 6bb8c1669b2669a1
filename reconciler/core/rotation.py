"""How a due secret rotation reads in a plan, and the stores' time stamps."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core.model import SecretAge
from reconciler.core.plan import FieldChange

# The pseudo-field a due rotation shows as in a plan; the applier rotates when it sees it.
SECRET_FIELD = "secret"


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
