"""Plans and drift reports for pull-request comments: a marker line, a summary table, details per org,
and a hard size cap (GitHub refuses comments over 65,536 characters).

Provider text (ids, labels, URLs, vendor messages) appears only inside code: a code span from
neutral.code_span, or the fenced diff block, whose lines all start with the tool's own text and whose fence
is longer than any run of backticks in it. Organization names come from the manifests (schema-checked)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reconciler.core.neutral import code_fence, code_span, text
from reconciler.core.plan import OrgPlan, Plan, action_counts, webhook_counts
from reconciler.core.report import DriftReport
from reconciler.core.safety import Refusal, refusals
from reconciler.render.text import Style, refusal_note, render_change, summary_line, unmanaged

LIMIT = 65_536
_FOOTER_ROOM = 600
DEFAULT_KEY = "default"
# A --comment-key: letters and digits, single `.`, `_`, `/` or `-` between them. It goes inside an HTML
# comment, which `--` or a trailing `-` could end or break (older CommonMark forbids `--` in a comment).
COMMENT_KEY = re.compile(r"^(?=.{1,64}$)[A-Za-z0-9]+(?:[._/-][A-Za-z0-9]+)*$")


def marker(kind: str, key: str) -> str:
    """contract §6: the hidden first line by which a poster finds and updates its own earlier comment."""
    if not COMMENT_KEY.match(key):
        raise ValueError(f"comment key {key!r} is not of the form {COMMENT_KEY.pattern}")
    return f"<!-- webhook-reconciler:{kind}:{key} -->"


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


def render_plan(plan: Plan, key: str = DEFAULT_KEY) -> str:
    counts = plan.counts()
    header = [marker("plan", key), "### webhook-reconciler plan", "", f"**{summary_line(counts)}**", ""]
    # An undeclared live webhook's name is its label or id: provider text, so a code span like the rest.
    deletes = [code_span(f"{c.org}/{c.webhook}") for c in plan.changes if c.removes_webhook]
    destinations = [code_span(f"{c.org}/{c.webhook}") for c in plan.changes if c.new_destination]
    refused = refusals(plan)
    if deletes or destinations or plan.errors:
        header.append("> [!WARNING]")
        if deletes:
            header.append(
                f"> **Destructive:** {len(deletes)} webhook(s) deleted: {', '.join(deletes[:20])}"
                + (" …" if len(deletes) > 20 else "")
            )
        if refused:
            why = "; ".join(f"`{r.org}` {r.reason}" for r in refused[:20]) + (" …" if len(refused) > 20 else "")
            header.append(f"> **Apply will refuse this plan (exit 3):** {why}")
        if destinations:
            header.append(
                f"> **New destinations:** {', '.join(destinations[:20])}" + (" …" if len(destinations) > 20 else "")
            )
        if plan.errors:
            names = ", ".join(f"`{o.org}`" for o in plan.errors[:20]) + (" …" if len(plan.errors) > 20 else "")
            header.append(f"> **Errors:** {len(plan.errors)} organization(s) could not be planned: {names}")
        header.append("")
    header += fleet_changes(plan)
    changed = [o for o in plan.orgs if o.changes or o.unmanaged or o.error]
    if len(changed) < len(plan.orgs):
        header += [f"{len(plan.orgs) - len(changed)} organization(s) in sync are not listed.", ""]
    header += [
        "| organization | provider | create | update | delete | unmanaged | status |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    rows = [table_row(o) for o in changed]
    details = [org_details(o, refused=[r for r in refused if r.org == o.org]) for o in changed]
    return fit(header, rows, details, what="plan")


_DONE = {"create": "created", "delete": "deleted", "replace": "replaced"}


def fleet_changes(plan: Plan) -> list[str]:
    """A change to a webhook set reads as one change (contract §2.1): the same change (action and fields) of one
    set member in several orgs is one line, its orgs folded below it. The per-org diffs follow as usual."""
    groups: dict[tuple[str, str, str, tuple[str, ...]], list[str]] = {}
    for change in plan.changes:
        if change.webhook_set is not None:
            key = (change.webhook_set, change.webhook, change.action, tuple(f.field for f in change.shown_fields))
            groups.setdefault(key, []).append(change.org)
    lines: list[str] = []
    for (set_name, webhook, action, fields), orgs in groups.items():
        if len(orgs) < 2:
            continue
        what = _DONE.get(action) or f"{', '.join(fields) or 'name'} changed"
        names = ", ".join(f"`{org}`" for org in orgs)
        lines += [
            f"- `{set_name}/{webhook}`: {what} in {len(orgs)} orgs",
            f"  <details><summary>{len(orgs)} organizations</summary>",
            "",
            f"  {names}",
            "",
            "  </details>",
        ]
    return ["**Webhook sets** (one line per change to a set member, across orgs):", "", *lines, ""] if lines else []


def table_row(org: OrgPlan) -> str:
    creates, updates, deletes = webhook_counts(action_counts(org.changes))
    if org.error:
        status = "❌ error"
    elif org.changes:
        status = "changes"
    else:
        status = "unmanaged" if org.unmanaged and not org.unmanaged_ignored else "in sync"
    return (
        f"| `{org.org}` | {org.provider} | {creates} | {updates} | {deletes} | "
        f"{len(org.unmanaged)} | {status} |"
    )


def org_details(org: OrgPlan, notes: Sequence[str] = (), refused: Sequence[Refusal] = ()) -> str:
    """One collapsible block: the org's diff (when there is one), then notes as a list."""
    style = Style(False)
    lines: list[str] = []
    if org.error:
        lines.append(f"! {text(org.error)}")
    for change in org.changes:
        note = refusal_note(change, list(refused))
        lines.extend(line.replace("  ", "", 1) for line in render_change(change, style, note))
    lines.extend(f"? unmanaged {unmanaged(u)}" for u in org.unmanaged)
    summary = f"<summary><code>{org.org}</code> ({org.provider})</summary>"
    parts = [f"<details>{summary}", ""]
    if lines:
        # Every line starts with the tool's text and no provider value holds a line break (neutral.text),
        # so only the fence below can close the block; it is longer than any run of backticks in the body.
        body = "\n".join(lines)
        fence = code_fence(body)
        parts += [f"{fence}diff", body, fence, ""]
    if notes:
        parts += [*notes, ""]
    return "\n".join(parts) + "</details>\n"


def render_drift(report: DriftReport, key: str = DEFAULT_KEY) -> str:
    checked = len(report.orgs) - len(report.errors)
    if report.drifted:
        headline = f"**Drift: {len(report.drifted)} of {checked} organization(s) differ from the manifests.**"
    elif report.errors:  # an org that could not be checked is never "in sync"
        headline = f"**No drift in the {checked} other organization(s) checked.**"
    else:
        headline = f"**No drift: {checked} organization(s) in sync.**"
    header = [marker("drift", key), "### webhook-reconciler drift", "", headline, ""]
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
        notes = [f"- `{w.name}` (id {code_span(w.webhook_id)}): secret {w.secret}" for w in org.secrets_not_stored]
        notes += [
            f"- `{w.name}` (id {code_span(w.webhook_id)}): deliveries failing ({code_span(w.delivery_detail)})"
            for w in org.delivery_failures
        ]
        details.append(org_details(org.plan, notes))
    return fit(header, rows, details, what="drift report")
