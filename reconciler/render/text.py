"""The plan as a readable diff for a terminal or a CI log."""

from __future__ import annotations

from reconciler.core.neutral import text
from reconciler.core.plan import Change, OrgPlan, Plan, Unmanaged, webhook_counts
from reconciler.core.report import DriftReport
from reconciler.core.safety import Refusal, refusals
from reconciler.core.urls import url_host
from reconciler.render import values

SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "±"}
COLOUR = {"create": "32", "update": "33", "delete": "31", "replace": "35", "error": "31", "note": "2"}


class Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, kind: str, text: str) -> str:
        return f"\033[{COLOUR[kind]}m{text}\033[0m" if self.colour else text


def render_plan(plan: Plan, *, colour: bool = False) -> str:
    style = Style(colour)
    refused = refusals(plan)
    lines: list[str] = []
    for org in plan.orgs:
        lines.extend(render_org(org, style, [r for r in refused if r.org == org.org]))
    lines.append(result_line(plan, refused, style))
    return "\n".join(lines) + "\n"


def summary_line(counts: dict[str, int]) -> str:
    """contract §6's line, always in that shape (scripts match it); the changes above mark a replace with `±`."""
    creates, updates, deletes = webhook_counts(counts)
    return f"Plan: {creates} to create, {updates} to update, {deletes} to delete."


def result_line(plan: Plan, refused: list[Refusal] | None = None, style: Style | None = None) -> str:
    """The plan's one-line result (all that `--quiet` prints): the summary, then on the same line what keeps
    it from being the whole story: orgs that could not be planned, deletes that apply will refuse."""
    style = style or Style(False)
    refused = refusals(plan) if refused is None else refused
    line = summary_line(plan.counts())
    if plan.errors:
        names = ", ".join(o.org for o in plan.errors)
        line += " " + style("error", f"{len(plan.errors)} organization(s) could not be planned: {names}.")
    if refused:
        why = "; ".join(f"{r.org} {r.reason}" for r in refused)
        overridable = any(r.overridable for r in refused)
        lift = "; --allow-deletes lifts a mass delete, never a protected webhook" if overridable else ""
        line += " " + style("error", f"Apply will refuse this plan (exit 3): {why}{lift}.")
    return line


def render_org(org: OrgPlan, style: Style, refused: list[Refusal] | None = None) -> list[str]:
    if not org.changes and not org.unmanaged and org.error is None:
        return []
    lines = [f"{org.org} ({org.provider})"]
    if org.error is not None:
        lines.append(style("error", f"  ✗ {text(org.error)}"))
    if org.protection_unknown:
        message = "the index record is missing and the store cannot list its records: deletes count as protected"
        lines.append(style("note", f"  ? {message}"))
    for change in org.changes:
        lines.extend(render_change(change, style, refusal_note(change, refused or [])))
    if org.unmanaged:
        why = "ignored (unmanaged: ignore)" if org.unmanaged_ignored else "not deleted: prune is off"
        lines.append(style("note", f"  ? {len(org.unmanaged)} unmanaged webhook(s), {why}:"))
        lines.extend(style("note", f"      {unmanaged(u)}") for u in org.unmanaged)
    lines.append("")
    return lines


def refusal_note(change: Change, refused: list[Refusal]) -> str:
    """Why apply will refuse this change, or "" when it will not."""
    notes = [
        "protected: apply refuses to delete it" if not r.overridable else "apply refuses it without --allow-deletes"
        for r in refused
        if change.webhook in r.webhooks and change.removes_webhook
    ]
    return "; ".join(dict.fromkeys(notes))


def unmanaged(u: Unmanaged) -> str:
    """An unmanaged webhook on one line: id, label and URL, all written by the provider."""
    label = f" {text(u.label)}" if u.label else ""
    return f"{text(u.webhook_id)}{label} {text(values.url(u.url, masked=u.masked))}"


def render_change(change: Change, style: Style, refused: str = "") -> list[str]:
    # The name of an undeclared live webhook is its label or id: the provider's text, like the id.
    head = f"  {SYMBOL[change.action]} {text(change.webhook)}"
    if change.webhook_id:
        head += f" (id {text(change.webhook_id)})"
    if change.renamed_from:
        head += f" renamed from {text(change.renamed_from)}"
    if change.webhook_set is not None:
        head += f" from set {text(change.webhook_set)}"
    if refused:
        head += f" [{refused}]"
    elif change.protected:
        head += " [protected]"
    lines = [style(change.action, head)]
    if change.new_destination:
        lines.append(style("error", f"      ! new destination: events will go to {destination(change)}"))
    for f in change.shown_fields:
        if change.action == "create":
            lines.append(f"      {f.field}: {values.after(f)}")
        elif change.action == "delete":
            lines.append(f"      {f.field}: {values.before(f)}")
        else:
            lines.append(f"      {f.field}: {values.before(f)} → {values.after(f)}")
    return lines


def destination(change: Change) -> str:
    for f in change.shown_fields:
        if f.field == "url" and isinstance(f.after, str):
            return "(masked host)" if f.masked else text(url_host(f.after) or "?")
    return "?"


def render_drift(report: DriftReport, *, colour: bool = False) -> str:
    style = Style(colour)
    lines: list[str] = []
    for org in report.orgs:
        drifted = org.drifted(fail_on_delivery_errors=report.fail_on_delivery_errors)
        if org.error is not None:
            lines += [f"{org.plan.org} ({org.plan.provider})", style("error", f"  ✗ {text(org.error)}"), ""]
            continue
        notes = [w for w in org.webhooks if w.secret != "stored" or w.delivery == "failing"]
        if not drifted and not notes and not org.plan.unmanaged:
            continue
        lines.extend(render_org(org.plan, style) or [f"{org.plan.org} ({org.plan.provider})", ""])
        if lines and lines[-1] == "":
            lines.pop()
        for w in notes:
            which = f"{w.name} (id {text(w.webhook_id)})"
            if w.secret != "stored":
                fix = f"`reconciler rotate PATH... {org.plan.org}/{w.name}` stores a new one"
                lines.append(style("error", f"  ! {which}: secret {w.secret} ({fix})"))
            if w.delivery == "failing":
                lines.append(style("error", f"  ! {which}: deliveries failing: {text(w.delivery_detail)}"))
        lines.append("")
    lines.append(drift_result(report, style))
    return "\n".join(lines) + "\n"


def drift_result(report: DriftReport, style: Style | None = None) -> str:
    """The drift check's one-line result (all that `--quiet` prints): never "in sync" while an org is
    unchecked, and what was found in the others."""
    style = style or Style(False)
    checked = len(report.orgs) - len(report.errors)
    if report.drifted:
        line = f"Drift: {len(report.drifted)} of {checked} organization(s) differ from the manifests."
    elif not report.errors:
        line = f"No drift: {checked} organization(s) in sync."
    elif checked:
        line = f"No drift in the {checked} other organization(s) checked."
    else:
        line = "Drift unknown: no organization could be checked."
    if report.errors:
        names = ", ".join(o.plan.org for o in report.errors)
        line += " " + style("error", f"Could not check {len(report.errors)} organization(s): {names}.")
    return line
