"""`apply --plan FILE`: a saved plan is applied only while it still says exactly what a fresh plan says
(octoDNS's checksum idea): same manifests, policy file, ${env:} values and live state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import ReconcilerError, StalePlan
from reconciler.core.model import Manifest, Organization
from reconciler.core.neutral import text
from reconciler.core.plan import Plan, masked_digest
from reconciler.core.selection import select_orgs
from reconciler.engine.documents import read_document
from reconciler.render import json as render_json


@dataclass(frozen=True)
class SavedPlan:
    path: str
    doc: dict[str, Any]

    @property
    def paths(self) -> list[str]:
        paths: list[str] = self.doc["paths"]
        return paths

    @property
    def policy_path(self) -> str | None:
        recorded = self.doc.get("policy_file")
        return str(recorded["path"]) if recorded else None


def read_saved(path: str) -> SavedPlan:
    """The saved plan, checked against schemas/plan.schema.json before anything trusts its fields."""
    doc = read_document(
        path, schema="plan.schema.json", what="plan", remedy="make one with `reconciler plan PATH... -o FILE`"
    )
    if any(o["error"] for o in doc["organizations"]):
        raise ReconcilerError(f"{path}: the plan has organizations that could not be planned; plan again")
    return SavedPlan(path, doc)


def saved_orgs(saved: SavedPlan, manifest: Manifest) -> list[Organization]:
    """The orgs the saved plan covers, once the manifests, the policy file and the ${env:} values it was made
    with are proven unchanged (StalePlan otherwise)."""
    doc = saved.doc
    if manifest.digest != doc["manifest_digest"]:
        raise StalePlan("stale plan: the manifests changed since it was made; nothing applied")
    recorded = doc.get("policy_file")
    if recorded and (manifest.policy_file is None or manifest.policy_file.digest != recorded["digest"]):
        where = text(recorded["path"])  # the plan file's text, like every field of it
        raise StalePlan(f"stale plan: the policy file {where} changed since it was made; nothing applied")
    names = [o["name"] for o in doc["organizations"]]
    orgs = select_orgs(manifest, names) if names else []  # an empty shard's plan: no org, never all
    if masked_digest(manifest.digest, orgs) != doc.get("masked_digest"):
        if "masked_digest" in doc:
            moved = "a webhook value from ${env:...} changed since it was made"
        else:  # made before plans recorded one: it cannot vouch for the env values
            moved = "it was made by an older version, which did not record the ${env:...} webhook values"
        raise StalePlan(f"stale plan: {moved}; nothing applied. Run plan again.")
    return orgs


def check_current(plan: Plan, saved: SavedPlan, *, skip: Mapping[str, str]) -> None:
    """The saved plan must be exactly what the live state would plan now. The orgs in `skip` (locked by
    another run) fail on their own and are not applied."""
    now = {o["name"]: o for o in render_json.plan_document(plan)["organizations"]}
    for old in saved.doc["organizations"]:
        if old["name"] in skip:
            continue
        new = now.get(old["name"])
        if new is None or new["error"]:
            raise StalePlan(f"stale plan: {old['name']} could not be re-read; nothing applied")
        if new["live_digest"] != old["live_digest"]:
            moved = f"the live webhooks of {old['name']} changed"
        elif new["changes"] != old["changes"]:
            # Same files, env values and live state: the store's records moved, or a rotation fell due.
            moved = f"the changes planned for {old['name']} differ now (its stored records, or a rotation due)"
        else:
            continue
        differ = what_moved(old["changes"], new["changes"])
        detail = f"; planned then → now: {differ}" if differ else ""
        raise StalePlan(f"stale plan: {moved} since the plan was made{detail}; nothing applied. Run plan again.")


def what_moved(saved: list[dict[str, Any]], fresh: list[dict[str, Any]]) -> str:
    """Which webhooks' planned changes moved between the saved plan and a fresh one, and how: a reviewer
    sees what the approval no longer covers. Both are plan documents, so values from ${env:...} are masked."""
    from deepdiff import DeepDiff

    before = {c["webhook"]: c for c in saved}
    after = {c["webhook"]: c for c in fresh}
    moved = sorted(DeepDiff(before, after, verbose_level=0).affected_root_keys)
    return ", ".join(_moved_one(name, before.get(name), after.get(name)) for name in moved)


def _moved_one(name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """`name` may be a live webhook's label (an undeclared one's name): shown escaped."""
    name = text(name)
    then, now = (c["action"] if c else "nothing" for c in (before, after))
    if before is None or after is None or then != now:
        return f"{name} ({then} → {now})"
    old, new = ({f["field"]: f for f in c["fields"]} for c in (before, after))
    fields = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return f"{name} ({then}: {', '.join(fields) or 'details'} moved)"
