"""Plans and drift reports for pull-request comments: a summary table, details per org, and a hard
size cap (GitHub refuses comments over 65,536 characters)."""

from __future__ import annotations

from reconciler.drift import DriftReport
from reconciler.plan import OrgPlan, Plan
from reconciler.render.text import Style, render_change, summary_line

LIMIT = 65_536
_FOOTER_ROOM = 600


def fit(header: list[str], rows: list[str], details: list[str], *, what: str) -> str:
    """Join the parts, cutting table rows and per-org details that do not fit under LIMIT."""
    out = "\n".join(header) + "\n"
    room = LIMIT - _FOOTER_ROOM
    kept_rows = 0
    for row in rows:
        if len(out) + len(row) + 1 > room // 2:
            break
        out += row + "\n"
        kept_rows += 1
    out += "\n"
    kept_details = 0
    for block in details:
        if len(out) + len(block) + 1 > room:
            break
        out += block + "\n"
        kept_details += 1
    left_rows, left_details = len(rows) - kept_rows, len(details) - kept_details
    if left_rows or left_details:
        out += (
            f"\n> [!NOTE]\n> This {what} was cut to fit a comment: {left_rows} table row(s) and "
            f"{left_details} organization detail(s) are left out. The full report is in the `-o` file "
            "or the job's artifact.\n"
        )
    return out


def render_plan(plan: Plan) -> str:
    counts = plan.counts()
    header = ["### webhook-reconciler plan", "", f"**{summary_line(counts)}**", ""]
    deletes = [f"`{c.org}/{c.webhook}`" for c in plan.changes if c.action in ("delete", "replace")]
    destinations = [f"`{c.org}/{c.webhook}`" for c in plan.changes if c.new_destination]
    if deletes or destinations or plan.errors:
        header.append("> [!WARNING]")
        if deletes:
            header.append(
                f"> **Destructive:** {len(deletes)} webhook(s) deleted: {', '.join(deletes[:20])}"
                + (" …" if len(deletes) > 20 else "")
            )
        if destinations:
            header.append(
                f"> **New destinations:** {', '.join(destinations[:20])}" + (" …" if len(destinations) > 20 else "")
            )
        if plan.errors:
            header.append(f"> **Errors:** {len(plan.errors)} organization(s) could not be planned.")
        header.append("")
    header += [
        "| organization | provider | create | update | delete | unmanaged | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    changed = [o for o in plan.orgs if o.changes or o.unmanaged or o.error]
    rows = [table_row(o) for o in changed]
    details = [org_details(o) for o in changed]
    return fit(header, rows, details, what="plan")


def table_row(org: OrgPlan) -> str:
    count = {a: sum(1 for c in org.changes if c.action == a) for a in ("create", "update", "delete")}
    status = "❌ error" if org.error else ("changes" if org.changes else "in sync")
    return (
        f"| `{org.org}` | {org.provider} | {count['create']} | {count['update']} | {count['delete']} | "
        f"{len(org.unmanaged)} | {status} |"
    )


def org_details(org: OrgPlan) -> str:
    style = Style(False)
    lines: list[str] = []
    if org.error:
        lines.append(f"! {org.error}")
    for change in org.changes:
        lines.extend(line.replace("  ", "", 1) for line in render_change(change, style))
    for u in org.unmanaged:
        lines.append(f"? unmanaged {u.webhook_id}{' ' + u.label if u.label else ''}")
    body = "\n".join(lines).replace("```", "'''")
    summary = f"<summary><code>{org.org}</code> ({org.provider})</summary>"
    return f"<details>{summary}\n\n```diff\n{body}\n```\n</details>\n"


def render_drift(report: DriftReport) -> str:
    checked = len(report.orgs) - len(report.errors)
    if report.drifted:
        headline = f"**Drift: {len(report.drifted)} of {checked} organization(s) differ from the manifests.**"
    else:
        headline = f"**No drift: {checked} organization(s) in sync.**"
    header = ["### webhook-reconciler drift", "", headline, ""]
    if report.errors:
        names = ", ".join(f"`{o.plan.org}`" for o in report.errors)
        header += ["> [!CAUTION]", f"> Could not check {len(report.errors)} organization(s): {names}.", ""]
    header += [
        "| organization | provider | changes | unmanaged | secrets not stored | failing deliveries | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    rows, details = [], []
    for org in report.orgs:
        drifted = org.drifted(fail_on_delivery_errors=report.fail_on_delivery_errors)
        if not drifted and not org.error and not org.delivery_failures:
            continue
        status = "❌ error" if org.error else ("drifted" if drifted else "in sync")
        rows.append(
            f"| `{org.plan.org}` | {org.plan.provider} | {len(org.plan.changes)} | {len(org.plan.unmanaged)} | "
            f"{len(org.secrets_not_stored)} | {len(org.delivery_failures)} | {status} |"
        )
        block = org_details(org.plan)
        extra = [f"- `{w.name}`: secret {w.secret}" for w in org.secrets_not_stored]
        extra += [f"- `{w.name}`: deliveries failing ({w.delivery_detail})" for w in org.delivery_failures]
        details.append(block + ("\n" + "\n".join(extra) + "\n" if extra else ""))
    return fit(header, rows, details, what="drift report")
