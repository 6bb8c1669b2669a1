"""`rotate_after`: which secrets are due (one record read only per webhook that declares it), and how the
pure planner shows a due rotation: an update where the API rotates in place, a replace elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from reconciler.core.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization, SecretAge, SecretRecord
from reconciler.core.plan import Change, Replace, Rotate, Rotation
from reconciler.core.planner import plan_org
from reconciler.core.rotation import parse_stamp
from reconciler.core.secret import Secret
from reconciler.engine.rotation import secrets_due
from reconciler.plugins import CAPABILITIES

NOW = datetime(2026, 3, 1, tzinfo=UTC)
URL = "https://hooks.acme.example/a"


class Records:
    """Just enough of a SecretStore for `secrets_due`: records by name, and the reads it was asked for."""

    def __init__(self, records: Mapping[str, SecretRecord]) -> None:
        self.records = dict(records)
        self.reads: list[str] = []

    def read(self, org: str, webhook: str) -> SecretRecord | None:
        self.reads.append(webhook)
        return self.records.get(webhook)


def record(created_at: str, rotated_at: str | None = None, webhook_id: str = "wh_1") -> SecretRecord:
    return SecretRecord(Secret("whsec_test_value"), webhook_id, "keeptrusts", URL, created_at, rotated_at)


def organization(*hooks: DesiredWebhook, provider: str = "keeptrusts") -> Organization:
    return Organization("acme", provider, "https://api.example", Secret("tok-123456"), "default", webhooks=hooks)


def test_only_webhooks_with_rotate_after_cost_a_read() -> None:
    store = Records(
        {
            "old": record("2025-01-01T00:00:00Z"),
            "rotated": record("2025-01-01T00:00:00Z", rotated_at="2026-02-20T00:00:00Z"),
            "plain": record("2020-01-01T00:00:00Z"),
        }
    )
    hooks = (
        DesiredWebhook("old", URL, rotate_after_days=30),
        DesiredWebhook("rotated", URL, rotate_after_days=30),
        DesiredWebhook("plain", URL),
        DesiredWebhook("new", URL, rotate_after_days=30),
    )
    due = secrets_due(store, organization(*hooks), NOW)  # type: ignore[arg-type]
    assert due == {"old": SecretAge("wh_1", "2025-01-01T00:00:00Z")}
    assert store.reads == ["old", "rotated", "new"]


def test_a_renamed_webhook_is_aged_by_its_old_record() -> None:
    store = Records({"before": record("2025-01-01T00:00:00Z")})
    hook = DesiredWebhook("after", URL, previously=("before",), rotate_after_days=7)
    assert secrets_due(store, organization(hook), NOW) == {  # type: ignore[arg-type]
        "after": SecretAge("wh_1", "2025-01-01T00:00:00Z")
    }


def test_an_unreadable_stamp_counts_as_old() -> None:
    assert parse_stamp("yesterday") < NOW
    assert parse_stamp("2026-02-28T00:00:00Z") == datetime(2026, 2, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("provider", "action", "kind"),
    [("keeptrusts", "update", Rotate), ("immuta", "update", Rotate), ("ingate", "replace", Replace)],
)
def test_a_due_rotation_is_planned(provider: str, action: str, kind: type[Change]) -> None:
    """In place where the API rotates (a Rotate, an update to a reviewer), else a new webhook (a Replace)."""
    hook = DesiredWebhook("a", URL, rotate_after_days=30, verify_tls=None)
    caps = CAPABILITIES[provider]
    live = LiveWebhook("wh_1", URL, label="a" if caps.label_field else None)
    due = {"a": SecretAge("wh_1", "2025-01-01T00:00:00Z")}
    plan = plan_org(organization(hook, provider=provider), caps, [live], {"a": IndexEntry("wh_1")}, due)
    (change,) = plan.changes
    assert (type(change), change.action, change.webhook_id) == (kind, action, "wh_1")
    assert change.rotation == Rotation("set 2025-01-01T00:00:00Z", "new secret (rotate_after 30d)")
    assert change.fields == ()  # no field of the API changes
    assert [(f.field, f.before, f.after) for f in change.shown_fields] == [
        ("secret", "set 2025-01-01T00:00:00Z", "new secret (rotate_after 30d)")
    ]


def test_a_rotation_due_for_another_id_is_not_planned() -> None:
    hook = DesiredWebhook("a", URL, rotate_after_days=30)
    due = {"a": SecretAge("wh_gone", "2025-01-01T00:00:00Z")}
    live = [LiveWebhook("wh_1", URL, label="a")]
    plan = plan_org(organization(hook), CAPABILITIES["keeptrusts"], live, {"a": IndexEntry("wh_1")}, due)
    assert plan.changes == ()
