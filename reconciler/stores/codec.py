"""The record and index layouts of contract §5, shared by the keyring and Vault stores.

Plain dicts in, model values out; no I/O. A malformed record raises ValueError, a malformed index gives None.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core.model import IndexEntry, SecretRecord
from reconciler.core.secret import Secret

INDEX_NAME = "_index"  # names starting with `_` are reserved for the tool's records (contract §2)
_REQUIRED = ("webhook_id", "provider", "url", "created_at")


def record_fields(record: SecretRecord) -> dict[str, object]:
    """The record's metadata fields (no secret); `rotated_at` and `protect` only when set."""
    fields: dict[str, object] = {
        "webhook_id": record.webhook_id,
        "provider": record.provider,
        "url": record.url,
        "created_at": record.created_at,
    }
    if record.rotated_at is not None:
        fields["rotated_at"] = record.rotated_at
    if record.protect:
        fields["protect"] = True
    return fields


def record_from_fields(secret: str, fields: Mapping[str, object]) -> SecretRecord:
    """Build a record from stored metadata; ValueError names the first bad field (never a value)."""
    for key in _REQUIRED:
        # The id may be empty: a client-supplied secret is stored before the create that sends it.
        if not isinstance(fields.get(key), str) or (not fields[key] and key != "webhook_id"):
            raise ValueError(f"field {key!r} is missing or not a string")
    rotated_at = fields.get("rotated_at")
    if rotated_at is not None and not isinstance(rotated_at, str):
        raise ValueError("field 'rotated_at' is not a string")
    protect = fields.get("protect", False)
    if not isinstance(protect, bool):
        raise ValueError("field 'protect' is not a boolean")
    if not secret:
        raise ValueError("the secret is empty")
    return SecretRecord(
        secret=Secret(secret),
        webhook_id=str(fields["webhook_id"]),
        provider=str(fields["provider"]),
        url=str(fields["url"]),
        created_at=str(fields["created_at"]),
        rotated_at=rotated_at,
        protect=protect,
    )


def index_fields(index: Mapping[str, IndexEntry]) -> dict[str, dict[str, object]]:
    """`{"<webhook>": {"webhook_id": "<id>", "protect": false}, ...}`, sorted by name."""
    return {name: _entry_fields(entry) for name, entry in sorted(index.items())}


def _entry_fields(entry: IndexEntry) -> dict[str, object]:
    fields: dict[str, object] = {"webhook_id": entry.webhook_id, "protect": entry.protect}
    if entry.pending:  # only while an apply is under way, or after one was killed
        fields["pending"] = True
    return fields


def index_from_fields(data: object) -> dict[str, IndexEntry] | None:
    """Read an index tolerantly: a bare string value is the id. Anything else unexpected gives None.
    `data` is parsed JSON, so objects are dicts (an exact type check: this runs for every indexed webhook)."""
    if not isinstance(data, dict):
        return None
    index: dict[str, IndexEntry] = {}
    for name, value in data.items():
        if not isinstance(name, str):
            return None
        if isinstance(value, str) and value:
            index[name] = IndexEntry(webhook_id=value)
        elif isinstance(value, dict):
            webhook_id, protect = value.get("webhook_id"), value.get("protect")
            protect = False if protect is None else protect
            pending = value.get("pending", False)
            if not isinstance(webhook_id, str) or not isinstance(protect, bool) or not isinstance(pending, bool):
                return None
            if not webhook_id and not pending:  # only a create under way has no id yet
                return None
            index[name] = IndexEntry(webhook_id=webhook_id, protect=protect, pending=pending)
        else:
            return None
    return index
