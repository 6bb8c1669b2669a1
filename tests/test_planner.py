"""The planner is pure: tables of desired/live/index in, changes out. No HTTP here."""

from __future__ import annotations

import pytest

from reconciler.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization
from reconciler.plan import OrgPlan
from reconciler.planner import plan_org
from reconciler.providers.capabilities import CAPABILITIES
from reconciler.secret import Secret

URL = "https://hooks.acme.example/a"


def org(provider: str, *hooks: DesiredWebhook, prune: bool = False) -> Organization:
    return Organization(
        "acme", provider, "https://api.example", Secret("tok-123456"), "default", prune=prune, webhooks=hooks
    )


def run(
    provider: str,
    hooks: list[DesiredWebhook],
    live: list[LiveWebhook],
    index: dict[str, IndexEntry] | None = None,
    prune: bool = False,
) -> OrgPlan:
    return plan_org(org(provider, *hooks, prune=prune), CAPABILITIES[provider], live, index or {})


def actions(plan: OrgPlan) -> list[tuple[str, str]]:
    return [(c.action, c.webhook) for c in plan.changes]


def test_create_when_nothing_is_live() -> None:
    plan = run("ingate", [DesiredWebhook("a", URL, frozenset({"key.create"}))], [])
    assert actions(plan) == [("create", "a")]
    assert plan.changes[0].new_destination


@pytest.mark.parametrize(
    ("provider", "desired", "live", "expected_fields"),
    [
        # events compare as sets: order and duplicates never make a change
        (
            "ingate",
            DesiredWebhook("a", URL, frozenset({"key.create", "app.create"})),
            LiveWebhook("1", URL, frozenset({"app.create", "key.create"})),
            [],
        ),
        # Ingate: omitted events and the API's [] are the same state
        ("ingate", DesiredWebhook("a", URL), LiveWebhook("1", URL, frozenset()), []),
        ("ingate", DesiredWebhook("a", URL), LiveWebhook("1", URL, None), []),
        ("keeptrusts", DesiredWebhook("a", URL, frozenset()), LiveWebhook("1", URL, None, label="a"), []),
        # InfraAudit: omitted events means the whole catalog
        (
            "infraaudit",
            DesiredWebhook("a", URL),
            LiveWebhook("1", URL, CAPABILITIES["infraaudit"].events, label="a"),
            [],
        ),
        ("infraaudit", DesiredWebhook("a", URL), LiveWebhook("1", URL, frozenset({"ping"}), label="a"), ["events"]),
        ("ingate", DesiredWebhook("a", URL, active=False), LiveWebhook("1", URL), ["active"]),
        ("ingate", DesiredWebhook("a", URL + "x"), LiveWebhook("1", URL), []),  # no match -> create
        (
            "encrata",
            DesiredWebhook("a", URL, frozenset({"credits.low"}), description="d"),
            LiveWebhook("1", URL, frozenset({"credits.low"}), description=None),
            ["description"],
        ),
        # Immuta has neither events nor an active flag; verify_tls defaults to true
        ("immuta", DesiredWebhook("a", URL), LiveWebhook("1", URL, None, verify_tls=True), []),
        (
            "immuta",
            DesiredWebhook("a", URL, verify_tls=False),
            LiveWebhook("1", URL, None, verify_tls=True),
            ["verify_tls"],
        ),
    ],
)
def test_field_level_updates(
    provider: str, desired: DesiredWebhook, live: LiveWebhook, expected_fields: list[str]
) -> None:
    plan = run(provider, [desired], [live])
    updates = [c for c in plan.changes if c.action == "update"]
    assert [f.field for c in updates for f in c.fields] == expected_fields


def test_identity_by_stored_id_survives_a_url_change() -> None:
    plan = run("ingate", [DesiredWebhook("a", URL + "/new")], [LiveWebhook("w1", URL)], {"a": IndexEntry("w1")})
    assert actions(plan) == [("update", "a")]
    (field,) = plan.changes[0].fields
    assert (field.field, field.before, field.after) == ("url", URL, URL + "/new")
    assert not plan.changes[0].new_destination  # same host


def test_identity_by_label_before_url() -> None:
    live = [
        LiveWebhook("w1", URL, frozenset({"ping"}), label="other"),
        LiveWebhook("w2", URL + "/b", frozenset({"ping"}), label="a"),
    ]
    plan = run("infraaudit", [DesiredWebhook("a", URL, frozenset({"ping"}))], live)
    assert [(c.action, c.webhook_id) for c in plan.changes] == [("update", "w2")]
    assert [u.webhook_id for u in plan.unmanaged] == ["w1"]


def test_two_label_candidates_are_ambiguous() -> None:
    live = [
        LiveWebhook("w1", URL, frozenset({"ping"}), label="a"),
        LiveWebhook("w2", URL, frozenset({"ping"}), label="a"),
    ]
    plan = run("infraaudit", [DesiredWebhook("a", URL, frozenset({"ping"}))], live)
    assert plan.error is not None and "ambiguous" in plan.error
    assert plan.changes == ()


def test_two_url_candidates_are_ambiguous() -> None:
    plan = run("ingate", [DesiredWebhook("a", URL)], [LiveWebhook("w1", URL), LiveWebhook("w2", URL)])
    assert plan.error is not None and "w1, w2" in plan.error


def test_unmanaged_reported_without_prune_and_deleted_with_it() -> None:
    live = [LiveWebhook("w1", URL), LiveWebhook("w9", "https://other.example/x")]
    kept = run("ingate", [DesiredWebhook("a", URL)], live)
    assert kept.changes == () and [u.webhook_id for u in kept.unmanaged] == ["w9"]
    pruned = run("ingate", [DesiredWebhook("a", URL)], live, prune=True)
    assert actions(pruned) == [("delete", "w9")]


def test_deletes_come_last() -> None:
    live = [LiveWebhook("w9", "https://other.example/x")]
    plan = run("ingate", [DesiredWebhook("z", URL)], live, prune=True)
    assert [c.action for c in plan.changes] == ["create", "delete"]


def test_rename_via_previously_keeps_the_webhook() -> None:
    live = [LiveWebhook("w1", URL, frozenset({"ping"}), label="old")]
    plan = run(
        "infraaudit",
        [DesiredWebhook("new", URL, frozenset({"ping"}), previously=("old",))],
        live,
        {"old": IndexEntry("w1")},
    )
    (change,) = plan.changes
    assert (change.action, change.webhook_id, change.renamed_from) == ("update", "w1", "old")
    assert [(f.field, f.before, f.after) for f in change.fields] == [("name", "old", "new")]


def test_protected_delete_is_marked() -> None:
    plan = run("ingate", [], [LiveWebhook("w1", URL)], {"gone": IndexEntry("w1", protect=True)}, prune=True)
    (change,) = plan.changes
    assert change.action == "delete" and change.protected and change.webhook == "gone"


def test_protect_flag_change_is_recorded() -> None:
    plan = run("ingate", [DesiredWebhook("a", URL, protect=True)], [LiveWebhook("w1", URL)], {"a": IndexEntry("w1")})
    assert [(f.field, f.before, f.after) for c in plan.changes for f in c.fields] == [("protect", False, True)]


def test_masked_fields_are_flagged() -> None:
    hook = DesiredWebhook("a", URL + "/s3cr3t", masked=frozenset({"url"}))
    plan = run("ingate", [hook], [LiveWebhook("w1", URL)], {"a": IndexEntry("w1")})
    assert plan.changes[0].fields[0].masked
