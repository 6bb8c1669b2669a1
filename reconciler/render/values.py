"""How one value is shown: masked values never, URL credentials never, lists compactly, provider text with
its control characters escaped (neutral.text; json.dumps escapes every non-ASCII character itself)."""

from __future__ import annotations

import json

from reconciler.core.neutral import text
from reconciler.core.plan import FieldChange
from reconciler.core.redact import MASK, mask_userinfo


def show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        # "All events" reaches here as None (see _field_value): an empty list is a webhook subscribed to none,
        # which Encrata and InfraAudit allow live though a manifest cannot ask for it.
        return "[" + ", ".join(text(v) for v in value) + "]" if value else "[] (no events)"
    if isinstance(value, str):
        return json.dumps(mask_userinfo(value))
    return text(value)


def before(change: FieldChange) -> str:
    return _field_value(change, change.before)


def after(change: FieldChange) -> str:
    return _field_value(change, change.after)


def _field_value(change: FieldChange, value: object) -> str:
    if change.masked and value is not None:
        return MASK
    if change.field == "events" and value is None:
        return "(all events)"  # the planner's None for events: every event of the provider
    return show(value)


def saved(change: FieldChange, value: object) -> object:
    """A value as a saved plan or JSON report holds it."""
    if change.masked and value is not None:
        return MASK
    if isinstance(value, str):
        return mask_userinfo(value)
    return value


def url(value: str, *, masked: bool) -> str:
    """A live URL outside a field change (an unmanaged webhook), unquoted."""
    return MASK if masked else mask_userinfo(value)
