"""Markdown for pull-request comments: golden files for plans and drift reports, and the 65,536-char cap.

The Plan and DriftReport objects are built here, so ids and digests are stable. Regenerate the golden
files with `UPDATE_GOLDEN=1 pytest tests/render` and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.core.plan import FieldChange, OrgPlan, Plan, Recorded, Unmanaged
from reconciler.core.report import DriftReport, OrgDrift, WebhookDrift
from reconciler.render import markdown, text

GOLDEN = Path(__file__).parent / "golden"
DIGEST = "0" * 64


def check_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 regenerates it"


def sample_plan() -> Plan:
    ingate = OrgPlan(
        org="acme-ingate",
        provider="ingate",
        changes=(
            Recorded(
                recorded="create",
                org="acme-ingate",
                webhook="finance",
                fields=(
                    FieldChange("url", None, "https://hooks.acme.example/finance"),
                    FieldChange("events", None, ["budget.exceeded", "budget.warning"]),
                ),
                new_destination=True,
            ),
            Recorded(
                recorded="update",
                org="acme-ingate",
                webhook="audit",
                webhook_id="3f1c",
                fields=(
                    FieldChange("url", "https://hooks.acme.example/a", "https://user:pw@hooks.acme.example/b"),
                    FieldChange("active", True, False),
                ),
            ),
            Recorded(
                recorded="update",
                org="acme-ingate",
                webhook="signed",
                webhook_id="77aa",
                fields=(FieldChange("url", "x", "y", True),),
            ),
            Recorded(
                recorded="delete",
                org="acme-ingate",
                webhook="legacy",
                webhook_id="9d2e",
                fields=(FieldChange("url", "https://old.example/", None),),
            ),
        ),
        live_count=3,
        live_digest="d1",
    )
    infraaudit = OrgPlan(
        org="acme-infraaudit",
        provider="infraaudit",
        unmanaged=(Unmanaged("wh_1", "https://stranger.example/x", "stranger"),),
        live_count=1,
    )
    keeptrusts = OrgPlan(
        org="acme-keeptrusts",
        provider="keeptrusts",
        changes=(
            Recorded(recorded="replace", org="acme-keeptrusts", webhook="rotated", webhook_id="wh_2", protected=False),
        ),
        live_count=1,
    )
    broken = OrgPlan(org="acme-encrata", provider="encrata", error="could not read: HTTP 401 from the API")
    quiet = OrgPlan(org="acme-immuta", provider="immuta", live_count=2)
    return Plan(("webhooks/",), DIGEST, (broken, ingate, infraaudit, quiet, keeptrusts))


def sample_drift() -> DriftReport:
    plan = sample_plan()
    by_name = {o.org: o for o in plan.orgs}
    orgs = (
        OrgDrift(by_name["acme-encrata"]),
        OrgDrift(
            OrgPlan(org="acme-immuta", provider="immuta", live_count=2),
            (
                WebhookDrift("ok", "u-1", "stored", "ok"),
                WebhookDrift("paused", "u-2", "stored", "failing", "deliveries suppressed by the provider"),
            ),
        ),
        OrgDrift(by_name["acme-infraaudit"], (WebhookDrift("drift", "wh_3", "missing", "unknown"),)),
        OrgDrift(
            OrgPlan(org="acme-keeptrusts", provider="keeptrusts", live_count=1),
            (WebhookDrift("a", "wh_4", "stale", "ok"),),
        ),
        OrgDrift(OrgPlan(org="calm", provider="ingate", live_count=1), (WebhookDrift("a", "c-1", "stored", "ok"),)),
    )
    return DriftReport(DIGEST, orgs, fail_on_delivery_errors=False)


def test_plan_markdown_golden() -> None:
    check_golden("plan.md", markdown.render_plan(sample_plan()))


def test_plan_markdown_calls_out_what_a_reviewer_must_see() -> None:
    rendered = markdown.render_plan(sample_plan())
    assert "**Destructive:** 2 webhook(s) deleted: `acme-ingate/legacy`, `acme-keeptrusts/rotated`" in rendered
    assert "**New destinations:** `acme-ingate/finance`" in rendered
    assert "**Errors:** 1 organization(s) could not be planned: `acme-encrata`" in rendered
    assert rendered.count("<details>") == 4  # every org with something to show, in sync ones not
    assert "1 organization(s) in sync are not listed." in rendered
    assert "user:pw" not in rendered and "********" in rendered


def test_drift_markdown_golden() -> None:
    check_golden("drift.md", markdown.render_drift(sample_drift()))


def test_drift_markdown_with_delivery_failures_failing() -> None:
    report = sample_drift()
    strict = DriftReport(report.manifest_digest, report.orgs, fail_on_delivery_errors=True)
    rendered = markdown.render_drift(strict)
    assert "| `acme-immuta` | immuta | 0 | 0 | 0 | 1 | drifted |" in rendered
    assert "- `paused` (id `u-2`): deliveries failing (`deliveries suppressed by the provider`)" in rendered
    lenient = markdown.render_drift(report)
    assert "| `acme-immuta` | immuta | 0 | 0 | 0 | 1 | in sync |" in lenient


def test_text_plan_golden() -> None:
    check_golden("plan.txt", text.render_plan(sample_plan()))


def test_rendering_is_stable() -> None:
    assert markdown.render_plan(sample_plan()) == markdown.render_plan(sample_plan())


def big_plan(orgs: int, hooks: int) -> Plan:
    return Plan(
        ("webhooks/",),
        DIGEST,
        tuple(
            OrgPlan(
                org=f"org-{i:03d}",
                provider="infraaudit",
                changes=tuple(
                    Recorded(
                        recorded="create",
                        org=f"org-{i:03d}",
                        webhook=f"hook-{j:02d}",
                        fields=(
                            FieldChange("url", None, f"https://hooks.acme.example/{i}/{j}"),
                            FieldChange("events", None, ["drift.detected", "drift.resolved"]),
                        ),
                    )
                    for j in range(hooks)
                ),
            )
            for i in range(orgs)
        ),
    )


def drift_of(plan: Plan) -> str:
    return markdown.render_drift(DriftReport(DIGEST, tuple(OrgDrift(o) for o in plan.orgs)))


@pytest.mark.parametrize("render", [markdown.render_plan, drift_of], ids=["plan", "drift"])
def test_two_hundred_orgs_fit_a_comment_and_say_what_was_cut(render: Callable[[Plan], str]) -> None:
    rendered = render(big_plan(200, 10))
    assert len(rendered) <= markdown.LIMIT
    assert "was cut to fit a comment" in rendered
    assert "The full report is in the `-o` file or the job's artifact." in rendered
    cut = rendered.split("organization detail(s) are left out")[0].split()[-1]
    assert int(cut) > 0
    assert rendered.count("<details>") == 200 - int(cut)
    assert rendered.count("<details>") == rendered.count("</details>")  # never half a block


def test_small_plan_is_not_cut() -> None:
    rendered = markdown.render_plan(big_plan(3, 2))
    assert "was cut" not in rendered and rendered.count("<details>") == 3
