"""The safety checks: deletes that `apply` refuses (exit 3) before any change, and `plan` shows beforehand."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.errors import UnsafePlan
from reconciler.core.neutral import text
from reconciler.core.plan import Plan

# A mass delete: at least this many, and more than this share of an org's live webhooks.
MASS_DELETE_MIN = 3
MASS_DELETE_SHARE = 0.25


@dataclass(frozen=True)
class Refusal:
    """Deletes of one org that `apply` refuses (exit 3, before any change). `plan` shows it beside each
    change and in its summary, so a reviewer learns it before the merge rather than from the apply job."""

    org: str
    webhooks: frozenset[str]  # the changes refused
    reason: str  # short, for a summary: "deletes 3 of 4 live webhooks"
    message: str  # what apply says when it refuses
    overridable: bool  # `--allow-deletes` lifts it (a mass delete); never a protected webhook


def refusals(plan: Plan) -> list[Refusal]:
    """Every refusal `apply` would raise for `plan` without `--allow-deletes`."""
    found: list[Refusal] = []
    for org in plan.orgs:
        # A replace (a rotation where the API cannot rotate in place) deletes the old webhook too.
        protected = sorted(c.webhook for c in org.changes if c.protected and c.removes_webhook)
        # An undeclared webhook's name is its live label: shown escaped in the messages.
        names = ", ".join(text(name) for name in protected)
        if protected and org.protection_unknown:
            message = (
                f"{org.org}: its index record is missing and the secret store cannot list its records, so "
                f"webhook(s) {names} may be protected; refusing to delete them (restore "
                "the index record, or declare them again and apply with `protect: false`)"
            )
            reason = "deletes webhooks that may be protected"
            found.append(Refusal(org.org, frozenset(protected), reason, message, False))
        elif protected:
            message = (
                f"{org.org}: refusing to delete protected webhook(s) {names}; "
                "apply them with `protect: false` first"
            )
            found.append(Refusal(org.org, frozenset(protected), "deletes protected webhooks", message, False))
        deletes = frozenset(c.webhook for c in org.changes if c.action == "delete")
        if not deletes:
            continue
        if len(deletes) == org.live_count:
            reason = f"deletes every live webhook ({len(deletes)})"
        elif len(deletes) >= MASS_DELETE_MIN and len(deletes) > MASS_DELETE_SHARE * org.live_count:
            reason = f"deletes {len(deletes)} of {org.live_count} live webhooks (more than {MASS_DELETE_SHARE:.0%})"
        else:
            continue
        message = f"{org.org}: the plan {reason}; use --allow-deletes if that is intended"
        found.append(Refusal(org.org, deletes, reason, message, True))
    return found


def check_safety(plan: Plan, *, allow_deletes: bool) -> None:
    """Refuse the whole run (exit 3) before any change when an org's deletes look like a mistake."""
    problems = [r.message for r in refusals(plan) if not (allow_deletes and r.overridable)]
    if problems:
        raise UnsafePlan("unsafe plan, nothing changed:\n  " + "\n  ".join(problems))
