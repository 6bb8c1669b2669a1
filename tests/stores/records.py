"""Sample records for the store tests."""

from __future__ import annotations

from reconciler.core.model import SecretRecord
from reconciler.core.secret import Secret

SECRET = "whsec_" + "5ecre7" * 8  # distinctive, so a leak is easy to spot


def record(secret: str = SECRET, **changes: object) -> SecretRecord:
    fields: dict[str, object] = {
        "webhook_id": "wh_123",
        "provider": "ingate",
        "url": "https://hooks.acme.example/ingate/finance",
        "created_at": "2026-01-02T03:04:05Z",
    }
    fields.update(changes)
    return SecretRecord(secret=Secret(secret), **fields)  # type: ignore[arg-type]
