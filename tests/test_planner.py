"""The planner is pure: tables of desired/live/index in, changes out. No HTTP here."""

from __future__ import annotations

import dataclasses

import pytest

from reconciler.core.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization
from reconciler.core.plan import Create, Delete, OrgPlan, Protection, Rename, Update, live_digest
from reconciler.core.planner import plan_org
from reconciler.core.secret import Secret
from reconciler.plugins import CAPABILITIES

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
    assert isinstance(change, Rename)
    assert (change.action, change.webhook_id, change.renamed_from) == ("update", "w1", "old")
    assert [(f.field, f.before, f.after) for f in change.fields] == [("name", "old", "new")]


def test_protected_delete_is_marked() -> None:
    plan = run("ingate", [], [LiveWebhook("w1", URL)], {"gone": IndexEntry("w1", protect=True)}, prune=True)
    (change,) = plan.changes
    assert change.action == "delete" and change.protected and change.webhook == "gone"


def test_protect_flag_change_is_recorded() -> None:
    plan = run("ingate", [DesiredWebhook("a", URL, protect=True)], [LiveWebhook("w1", URL)], {"a": IndexEntry("w1")})
    (change,) = plan.changes
    assert isinstance(change, Update) and change.fields == ()  # the API has nothing to change
    assert change.protection == Protection(False, True)
    assert [(f.field, f.before, f.after) for f in change.shown_fields] == [("protect", False, True)]


def test_masked_fields_are_flagged() -> None:
    hook = DesiredWebhook("a", URL + "/s3cr3t", masked=frozenset({"url"}))
    plan = run("ingate", [hook], [LiveWebhook("w1", URL)], {"a": IndexEntry("w1")})
    assert plan.changes[0].fields[0].masked


# -- contract §3 identity, as a table: (provider, declared, live, index, changes, unmanaged ids, error) -------------

A, B, OTHER = URL, "https://hooks.acme.example/b", "https://other.example/x"
PING = frozenset({"ping"})


def audit(name: str, url: str = A, **kw: object) -> DesiredWebhook:
    return DesiredWebhook(name, url, PING, **kw)  # type: ignore[arg-type]


IDENTITY_CASES = {
    # (1) the stored id wins over a label and a URL that point elsewhere
    "stored id before label and URL": (
        "infraaudit",
        [audit("a")],
        [LiveWebhook("w1", A, PING, label="a"), LiveWebhook("w2", B, PING, label="x")],
        {"a": IndexEntry("w2")},
        [("update", "a", "w2")],
        ["w1"],
        None,
    ),
    # a stored id whose webhook is gone falls back to the label, then the URL
    "gone stored id falls back to label": (
        "infraaudit",
        [audit("a")],
        [LiveWebhook("w2", B, PING, label="a")],
        {"a": IndexEntry("w-gone")},
        [("update", "a", "w2")],
        [],
        None,
    ),
    "gone stored id falls back to URL": (
        "ingate",
        [DesiredWebhook("a", A)],
        [LiveWebhook("w2", A)],
        {"a": IndexEntry("w-gone")},
        [],
        [],
        None,
    ),
    # the index names two live webhooks for one declared webhook (new and old name): ambiguous
    "two stored ids": (
        "ingate",
        [DesiredWebhook("new", A, previously=("old",))],
        [LiveWebhook("w1", A), LiveWebhook("w2", B)],
        {"new": IndexEntry("w1"), "old": IndexEntry("w2")},
        [],
        [],
        "by stored id (w1, w2)",
    ),
    # a label under the new name and one under an old name are two candidates
    "label under new and old name": (
        "keeptrusts",
        [DesiredWebhook("new", A, previously=("old",))],
        [LiveWebhook("w1", A, label="new"), LiveWebhook("w2", B, label="old")],
        {},
        [],
        [],
        "by label (w1, w2)",
    ),
    # (2) is skipped where the provider has no label field: Ingate matches by URL only
    "no label field": (
        "ingate",
        [DesiredWebhook("a", A)],
        [LiveWebhook("w1", B, label="a")],
        {},
        [("create", "a", None)],
        ["w1"],
        None,
    ),
    # (3) a URL two declared webhooks claim is adopted by neither
    "URL claimed twice": (
        "ingate",
        [DesiredWebhook("a", A), DesiredWebhook("b", A, frozenset({"key.create"}))],
        [LiveWebhook("w1", A)],
        {},
        [("create", "a", None), ("create", "b", None)],
        ["w1"],
        None,
    ),
    # a URL match never takes a webhook labelled for another declared name
    "URL match skips another's label": (
        "infraaudit",
        [audit("a", A), audit("b", B)],
        [LiveWebhook("w1", A, PING, label="b")],
        {},
        [("create", "a", None), ("update", "b", "w1")],
        [],
        None,
    ),
    # a URL match on a label provider adopts an unlabelled webhook and names it
    "URL match names it": (
        "infraaudit",
        [audit("a")],
        [LiveWebhook("w1", A, PING, label=None)],
        {},
        [("update", "a", "w1")],
        [],
        None,
    ),
    "two URL candidates": (
        "encrata",
        [DesiredWebhook("a", A)],
        [LiveWebhook("w1", A), LiveWebhook("w2", A)],
        {},
        [],
        [],
        "by URL (w1, w2)",
    ),
    # a rename found by the old label when the store has no record (an imported webhook)
    "rename by label": (
        "keeptrusts",
        [DesiredWebhook("new", A, previously=("old",))],
        [LiveWebhook("w1", A, label="old")],
        {},
        [("update", "new", "w1")],
        [],
        None,
    ),
}


@pytest.mark.parametrize(
    ("provider", "declared", "live", "index", "expected", "unmanaged", "error"),
    list(IDENTITY_CASES.values()),
    ids=list(IDENTITY_CASES),
)
def test_identity(
    provider: str,
    declared: list[DesiredWebhook],
    live: list[LiveWebhook],
    index: dict[str, IndexEntry],
    expected: list[tuple[str, str, str | None]],
    unmanaged: list[str],
    error: str | None,
) -> None:
    plan = run(provider, declared, live, index)
    assert [(c.action, c.webhook, c.webhook_id) for c in plan.changes] == expected
    assert [u.webhook_id for u in plan.unmanaged] == unmanaged
    if error is None:
        assert plan.error is None
    else:
        # Ambiguous: the org fails, and nothing (not even a prune) is planned for it.
        assert plan.error is not None and "ambiguous" in plan.error and error in plan.error
        assert run(provider, declared, live, index, prune=True).changes == ()


def test_an_ambiguous_org_keeps_its_live_digest() -> None:
    live = [LiveWebhook("w1", A), LiveWebhook("w2", A)]
    plan = run("ingate", [DesiredWebhook("a", A)], live)
    assert (plan.live_count, plan.live_digest) == (2, live_digest(live))


def test_unmanaged_ignore_is_flagged_and_prune_still_deletes() -> None:
    hooks = (DesiredWebhook("a", A),)
    live = [LiveWebhook("w1", A), LiveWebhook("w9", OTHER)]
    quiet = Organization(
        "acme", "ingate", "https://api.example", Secret("tok-123456"), "d", webhooks=hooks, unmanaged="ignore"
    )
    plan = plan_org(quiet, CAPABILITIES["ingate"], live, {})
    assert plan.unmanaged_ignored and [u.webhook_id for u in plan.unmanaged] == ["w9"]


# -- masking and destinations ----------------------------------------------------------------------------------

ENV_URL = "https://hooks.acme.example/from-env"


@pytest.mark.parametrize(
    ("desired", "live_url", "masked"),
    [
        (DesiredWebhook("a", ENV_URL + "/2", masked=frozenset({"url"})), ENV_URL, True),  # env value changes
        (DesiredWebhook("a", "https://u:new@hooks.acme.example/a"), "https://u:old@hooks.acme.example/a", True),
        (DesiredWebhook("a", "https://u:pw@moved.example/a"), "https://u:pw@hooks.acme.example/a", False),
        (DesiredWebhook("a", "https://hooks.acme.example/b"), "https://hooks.acme.example/a", False),
    ],
)
def test_url_changes_that_must_be_masked(desired: DesiredWebhook, live_url: str, masked: bool) -> None:
    plan = run("ingate", [desired], [LiveWebhook("w1", live_url)], {"a": IndexEntry("w1")})
    (change,) = plan.changes
    assert [(f.field, f.masked) for f in change.fields] == [("url", masked)]


def test_a_live_url_equal_to_an_env_value_is_masked_when_unmanaged_or_deleted() -> None:
    hooks = [DesiredWebhook("a", ENV_URL, masked=frozenset({"url"}))]
    live = [LiveWebhook("w1", ENV_URL), LiveWebhook("w2", ENV_URL), LiveWebhook("w3", OTHER)]
    kept = run("ingate", hooks, live, {"a": IndexEntry("w1")})
    assert [(u.webhook_id, u.masked) for u in kept.unmanaged] == [("w2", True), ("w3", False)]
    pruned = run("ingate", hooks, live, {"a": IndexEntry("w1")}, prune=True)
    assert [(c.webhook_id, c.fields[0].masked) for c in pruned.changes] == [("w2", True), ("w3", False)]


@pytest.mark.parametrize(
    ("declared", "live", "expected"),
    [
        ([DesiredWebhook("a", A)], [], {"a": True}),  # an org that sent nowhere before
        ([DesiredWebhook("a", A), DesiredWebhook("b", B)], [LiveWebhook("w1", A)], {"b": False}),  # known host
        ([DesiredWebhook("a", OTHER)], [LiveWebhook("w1", A)], {"a": True}),  # the host changes
        ([DesiredWebhook("a", B)], [LiveWebhook("w1", A)], {"a": False}),  # only the path changes
        ([DesiredWebhook("a", A, active=False)], [LiveWebhook("w1", A)], {"a": False}),  # no URL change
    ],
)
def test_new_destinations(declared: list[DesiredWebhook], live: list[LiveWebhook], expected: dict[str, bool]) -> None:
    plan = run("ingate", declared, live, {"a": IndexEntry("w1")} if live else {})
    assert {c.webhook: c.new_destination for c in plan.changes} == expected


def test_each_change_type_has_only_its_own_fields() -> None:
    """The typed plan: what a type does not have reads as nothing, what it has is required and stored."""
    live = LiveWebhook("w1", URL)
    hook = DesiredWebhook("a", URL)
    create = Create(org="o", webhook="a", desired=hook)
    assert (create.webhook_id, create.renamed_from, create.rotation, create.protected) == (None, None, None, False)
    rename = Rename(org="o", webhook="a", webhook_id="w1", renamed_from="old", desired=hook, live=live)
    assert (rename.action, rename.kind, rename.renamed_from, rename.webhook_id) == ("update", "rename", "old", "w1")
    delete = Delete(org="o", webhook="a", webhook_id="w1", protected=True, live=live)
    assert (delete.action, delete.protected, delete.removes_webhook) == ("delete", True, True)
    assert delete.renamed_from is None
    with pytest.raises(TypeError):
        Rename(org="o", webhook="a", webhook_id="w1", desired=hook, live=live)  # type: ignore[call-arg]
    assert "renamed_from" not in {f.name for f in dataclasses.fields(Create)}
