"""The `pending` index mark: stored and read back, and what a plan makes of it (no I/O)."""

from __future__ import annotations

import pytest

from reconciler.core.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization
from reconciler.core.planner import plan_org
from reconciler.core.rotation import INTERRUPTED
from reconciler.core.secret import Secret
from reconciler.plugins import CAPABILITIES
from reconciler.stores.codec import index_fields, index_from_fields


def test_pending_entries_round_trip_and_only_they_may_lack_an_id() -> None:
    index = {"a": IndexEntry("", pending=True), "b": IndexEntry("wh_1", True, pending=True), "c": IndexEntry("wh_2")}
    fields = index_fields(index)
    assert fields["c"] == {"webhook_id": "wh_2", "protect": False}  # no `pending` key once settled
    assert index_from_fields(fields) == index
    assert index_from_fields({"a": {"webhook_id": ""}}) is None


@pytest.mark.parametrize(
    ("provider", "action"), [("keeptrusts", "update"), ("immuta", "update"), ("ingate", "replace")]
)
def test_a_pending_match_gets_a_new_secret(provider: str, action: str) -> None:
    hook = DesiredWebhook("h", f"https://hooks.acme.example/{provider}/h")
    org = Organization("acme", provider, "https://api.example", Secret("t"), "desktop", webhooks=(hook,))
    live = LiveWebhook("wh_9", hook.url, label="h" if CAPABILITIES[provider].label_field else None)
    (change,) = plan_org(org, CAPABILITIES[provider], [live], {"h": IndexEntry("", pending=True)}).changes
    assert change.action == action and change.webhook_id == "wh_9"
    assert change.rotation == INTERRUPTED and change.fields == ()


def test_a_pending_mark_without_a_live_webhook_is_a_plain_create() -> None:
    hook = DesiredWebhook("h", "https://hooks.acme.example/ingate/h")
    org = Organization("acme", "ingate", "https://api.example", Secret("t"), "desktop", webhooks=(hook,))
    (change,) = plan_org(org, CAPABILITIES["ingate"], [], {"h": IndexEntry("", pending=True)}).changes
    assert change.action == "create"
