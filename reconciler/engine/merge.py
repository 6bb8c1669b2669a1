"""contract §7.1: the JSON drift reports of the shards of one run, joined into the report the unsharded run gives.

A shard's report names every org of the run in order (`shard.organizations`), so the join can put the orgs
back in that order and refuse an incomplete set: a missing shard must never read as "in sync"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reconciler.core.errors import ReconcilerError
from reconciler.core.plan import (
    PROTECT_FIELD,
    SECRET_FIELD,
    Change,
    FieldChange,
    OrgPlan,
    Protection,
    Recorded,
    Rotation,
    Unmanaged,
)
from reconciler.core.report import DriftReport, OrgDrift, WebhookDrift


def merge(reports: Sequence[tuple[str, Mapping[str, Any]]]) -> DriftReport:
    """`reports`: (file name, drift report) pairs, each report already checked against its schema."""
    whole = ", ".join(name for name, doc in reports if "shard" not in doc)
    if whole:
        raise ReconcilerError(f"not the report of a shard (made without --shard K/N): {whole}")
    first_name, first = reports[0]
    count, fleet = first["shard"]["count"], first["shard"]["organizations"]
    by_index: dict[int, str] = {}
    for name, doc in reports:
        shard = doc["shard"]
        if (doc["manifest_digest"], shard["count"], shard["organizations"]) != (
            first["manifest_digest"], count, fleet
        ):
            raise ReconcilerError(f"{name} and {first_name} are not shards of one run (manifests, N or orgs differ)")
        if shard["index"] in by_index:
            raise ReconcilerError(f"{name} and {by_index[shard['index']]} are both shard {shard['index']}/{count}")
        by_index[shard["index"]] = name
    missing = [str(k) for k in range(count) if k not in by_index]
    if missing:
        raise ReconcilerError(f"missing the report(s) of shard(s) {', '.join(missing)} of {count}")
    orgs: dict[str, OrgDrift] = {}
    for name, doc in reports:
        unknown_protection = set(doc["shard"]["protection_unknown"])
        for entry in doc["organizations"]:
            if entry["name"] in orgs or entry["name"] not in fleet:
                raise ReconcilerError(f"{name}: organization '{entry['name']}' is not this shard's to report")
            orgs[entry["name"]] = org_drift(entry, protection_unknown=entry["name"] in unknown_protection)
    absent = [org for org in fleet if org not in orgs]
    if absent:
        raise ReconcilerError(f"no shard reports organization(s): {', '.join(absent)}")
    ordered = tuple(orgs[org] for org in fleet)
    return DriftReport(first["manifest_digest"], ordered, delivery_rule((doc for _, doc in reports), orgs))


def delivery_rule(docs: Iterable[Mapping[str, Any]], orgs: Mapping[str, OrgDrift]) -> bool:
    """Whether the shards ran with --fail-on-delivery-errors, as far as it shows: an org reported drifted only
    for its failing deliveries. When none is, the flag changed nothing and either value gives the same report."""
    return any(
        entry["status"] == "drifted" and not orgs[entry["name"]].drifted(fail_on_delivery_errors=False)
        for doc in docs
        for entry in doc["organizations"]
    )


def org_drift(entry: Mapping[str, Any], *, protection_unknown: bool) -> OrgDrift:
    name = entry["name"]
    plan = OrgPlan(
        name,
        entry["provider"],
        changes=tuple(change(name, c) for c in entry["changes"]),
        unmanaged=tuple(Unmanaged(u["webhook_id"], u["url"], u["label"]) for u in entry["unmanaged"]),
        unmanaged_ignored=entry["unmanaged_ignored"],
        error=entry["error"],
        protection_unknown=protection_unknown,
    )
    hooks = tuple(
        WebhookDrift(w["name"], w["webhook_id"], w["secret"], w["delivery"], w["delivery_detail"])
        for w in entry["webhooks"]
    )
    return OrgDrift(plan, hooks)


def change(org: str, doc: Mapping[str, Any]) -> Change:
    """A change as the report holds it: `protect` and `secret` are shown beside the API's fields."""
    shown = [FieldChange(f["field"], f["before"], f["after"], f["masked"]) for f in doc["fields"]]
    protect = next((f for f in shown if f.field == PROTECT_FIELD), None)
    secret = next((f for f in shown if f.field == SECRET_FIELD), None)
    return Recorded(
        recorded=doc["action"],
        org=org,
        webhook=doc["webhook"],
        webhook_id=doc["webhook_id"],
        fields=tuple(f for f in shown if f not in (protect, secret)),
        protection=None if protect is None else Protection(bool(protect.before), bool(protect.after)),
        rotation=None if secret is None else Rotation(str(secret.before), str(secret.after)),
        renamed_from=doc["renamed_from"],
        new_destination=doc["new_destination"],
        protected=doc["protected"],
        webhook_set=doc.get("webhook_set"),
    )
