"""How a due secret rotation reads in a plan, and the stores' time stamps."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core.model import SecretAge
from reconciler.core.plan import Rotation


def rotation_due(age: SecretAge, days: int) -> Rotation:
    """A rotation `rotate_after` asks for: when the secret was set, and the rule (never a value)."""
    return Rotation(f"set {age.since}", f"new secret (rotate_after {days}d)")


# An earlier apply stopped while setting the secret (killed between the provider's answer and the store
# write): the secret in force may be one nobody has.
INTERRUPTED = Rotation("unknown: an earlier apply was interrupted", "new secret")


def parse_stamp(stamp: str) -> datetime:
    """An ISO-8601 UTC stamp as the stores keep it; an unreadable one counts as old, so it gets rotated."""
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
