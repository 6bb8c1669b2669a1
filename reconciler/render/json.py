"""The plan as versioned JSON (schemas/plan.schema.json): the saved-plan file and `--format json`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from reconciler.core.exits import Exit
from reconciler.core.plan import PLAN_FORMAT_VERSION, Change, OrgPlan, Plan
from reconciler.core.report import DriftReport
from reconciler.render import values


def plan_document(plan: Plan) -> dict[str, Any]:
    doc = {
        "format_version": PLAN_FORMAT_VERSION,
        "kind": "plan",
        "paths": list(plan.paths),
        "manifest_digest": plan.manifest_digest,
        "masked_digest": plan.masked_digest,
        "policy_file": None if plan.policy_file is None else dataclasses.asdict(plan.policy_file),
        "summary": plan.counts(),
        "organizations": [org_document(o) for o in plan.orgs],
    }
    if plan.shard is not None:
        doc["shard"] = {"index": plan.shard.index, "count": plan.shard.count}
    return doc


def org_document(org: OrgPlan) -> dict[str, Any]:
    return {
        "name": org.org,
        "provider": org.provider,
        "live_digest": org.live_digest,
        "live_count": org.live_count,
        "error": org.error,
        "changes": [change_document(c) for c in org.changes],
        "unmanaged": [
            {"webhook_id": u.webhook_id, "url": values.url(u.url, masked=u.masked), "label": u.label}
            for u in org.unmanaged
        ],
        "unmanaged_ignored": org.unmanaged_ignored,
    }


def change_document(change: Change) -> dict[str, Any]:
    document = {
        "action": change.action,
        "webhook": change.webhook,
        "webhook_id": change.webhook_id,
        "renamed_from": change.renamed_from,
        "new_destination": change.new_destination,
        "protected": change.protected,
        "fields": [
            {
                "field": f.field,
                "before": values.saved(f, f.before),
                "after": values.saved(f, f.after),
                "masked": f.masked,
            }
            for f in change.shown_fields
        ],
    }
    if change.webhook_set is not None:  # only then: a plan without sets reads as it always did
        document["webhook_set"] = change.webhook_set
    return document


def render_plan(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2, sort_keys=True) + "\n"


def drift_document(report: DriftReport) -> dict[str, Any]:
    orgs = []
    for org in report.orgs:
        status = (
            "error"
            if org.error
            else ("drifted" if org.drifted(fail_on_delivery_errors=report.fail_on_delivery_errors) else "in_sync")
        )
        doc = org_document(org.plan)
        doc.pop("live_digest")
        doc.pop("live_count")
        doc["status"] = status
        doc["webhooks"] = [
            {
                "name": w.name,
                "webhook_id": w.webhook_id,
                "secret": w.secret,
                "delivery": w.delivery,
                "delivery_detail": w.delivery_detail,
            }
            for w in org.webhooks
        ]
        orgs.append(doc)
    doc = {
        "format_version": PLAN_FORMAT_VERSION,
        "kind": "drift",
        "manifest_digest": report.manifest_digest,
        "in_sync": report.exit_code() == Exit.OK,
        "summary": {
            "organizations": len(report.orgs),
            "drifted": len(report.drifted),
            "errors": len(report.errors),
            "changes": sum(len(o.plan.changes) for o in report.orgs),
            "unmanaged": sum(len(o.plan.unmanaged) for o in report.orgs if not o.plan.unmanaged_ignored),
            "secrets_not_stored": sum(len(o.secrets_not_stored) for o in report.orgs),
            "delivery_failures": sum(len(o.delivery_failures) for o in report.orgs),
        },
        "organizations": orgs,
    }
    if report.shard is not None:
        # What `merge-reports` needs to give back the unsharded report: every org of the run and their order,
        # and what the text form shows that the org entries do not hold.
        doc["shard"] = {
            "index": report.shard.index,
            "count": report.shard.count,
            "organizations": list(report.fleet),
            "protection_unknown": [o.plan.org for o in report.orgs if o.plan.protection_unknown],
        }
    return doc


def render_drift(report: DriftReport) -> str:
    return json.dumps(drift_document(report), indent=2, sort_keys=True) + "\n"
