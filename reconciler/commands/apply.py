"""`reconciler apply`: execute a plan (fresh, or a saved one that must still be current)."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_lock_timeout, add_policy, add_selection, load
from reconciler.core import neutral
from reconciler.core.errors import ReconcilerError, StalePlan, UnsafePlan
from reconciler.core.exits import Exit
from reconciler.core.plan import Plan, action_counts, webhook_counts
from reconciler.engine import usecases
from reconciler.engine.applier import ApplyReport
from reconciler.engine.saved_plans import SavedPlan, read_saved
from reconciler.render import metrics
from reconciler.render import text as render_text


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("apply", help="create, update and delete webhooks; store their secrets")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="manifest file or directory")
    parser.add_argument("--plan", metavar="FILE", help="apply exactly this saved plan, or refuse it as stale")
    parser.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--allow-deletes", action="store_true", help="allow mass deletes and deleting every webhook of an org"
    )
    add_selection(parser)
    add_lock_timeout(parser)
    add_policy(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    saved: SavedPlan | None = None
    if args.plan:
        if args.paths or args.orgs or args.exclude_orgs or args.policy or args.shard:
            # As Terraform refuses -var with a saved plan: the plan alone says what it was made with.
            raise ReconcilerError(
                "--plan FILE applies the saved plan's manifests, orgs and shard, with the policy file it records: "
                "give no PATH, --org or --exclude-org (nor --policy), nor --shard"
            )
        saved = read_saved(args.plan)
        manifest = load(saved.paths, saved.policy_path)
        orgs = None
    else:
        if not args.paths:
            raise ReconcilerError("apply needs PATH... or --plan FILE")
        manifest = load(args.paths, args.policy)
        orgs = usecases.Selection(args.orgs, args.exclude_orgs, args.shard).of(manifest)
    options = usecases.ApplyOptions(args.parallelism, args.lock_timeout, args.allow_deletes)
    try:
        result = usecases.apply(manifest, TerminalUI(args, saved), options, orgs=orgs, saved=saved)
    except (UnsafePlan, StalePlan) as exc:
        # contract §4: the one-line result, under --quiet too; the reasons follow on stderr.
        why = "unsafe plan" if isinstance(exc, UnsafePlan) else "stale plan"
        output.emit(f"Apply refused ({why}, exit {int(exc.exit_code)}); nothing changed.", always=True)
        raise
    return outcome(result)


@dataclass(frozen=True)
class TerminalUI:
    """Apply at a terminal or in a pipeline: the plan shown (under --quiet too when a person is asked to
    confirm it), a confirmation unless --auto-approve, a progress line while changes run."""

    args: argparse.Namespace
    saved: SavedPlan | None

    def notice(self, line: str) -> None:
        output.emit(line)

    def planned(self, plan: Plan) -> None:
        metrics.observe_plan(plan, applied=True)

    def show(self, plan: Plan) -> None:
        if self.saved is not None:
            output.emit(f"Applying the saved plan {self.saved.path}: {render_text.summary_line(plan.counts())}")
        else:
            colour = output.colour_enabled(self.args.no_color)
            output.emit(render_text.render_plan(plan, colour=colour), always=not self.args.auto_approve)

    def confirm(self, plan: Plan) -> bool:
        return confirmed(self.args.auto_approve)

    def applying(self, plan: Plan, orgs: int) -> AbstractContextManager[None]:
        return output.progress(f"applying {len(plan.changes)} change(s) to {orgs} organization(s)")


def outcome(result: usecases.ApplyResult) -> int:
    """What the run says last, and its exit code (contract §4)."""
    plan, report = result.plan, result.report
    if report is None:
        if result.cancelled:
            output.emit("Apply cancelled; nothing changed.", always=True)
            return Exit.ERROR
        if plan.errors:  # an org that could not be read is no proof that anything matches
            output.emit(f"Apply failed, nothing changed: {unplanned(plan)}.", always=True)
        else:
            output.emit("No changes. The live webhooks match the manifests.", always=True)  # the result, as a summary
        return report_errors(plan, applied=False)
    metrics.observe_apply((o.change, o.ok) for o in report.outcomes)
    print_report(report, plan)
    if report.interrupted:
        output.error("interrupted: no further change was started; apply again to finish")
        return Exit.INTERRUPTED
    code = report_errors(plan, applied=bool(report.applied), failed=bool(report.failed))
    if code == Exit.OK and result.verification is not None:
        return converged(result.verification)
    return code


def report_errors(plan: Plan, *, applied: bool, failed: bool = False) -> int:
    for org in plan.errors:
        output.error(f"error: {org.org}: {neutral.text(org.error)}")
    if failed or plan.errors:
        return Exit.PARTIAL if applied else Exit.ERROR
    return Exit.OK


def converged(again: Plan) -> int:
    if not again.changes and not again.errors:
        return Exit.OK
    output.error("error: apply did not converge; a fresh plan still shows:")
    for change in again.changes:
        fields = ", ".join(f.field for f in change.shown_fields) or change.action
        output.error(f"  {change.org}/{neutral.text(change.webhook)}: {change.action} ({fields})")
    for org in again.errors:
        output.error(f"  {org.org}: {neutral.text(org.error)}")
    return Exit.ERROR


def confirmed(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        raise ReconcilerError("apply needs --auto-approve when not run on a terminal (or use --plan FILE)")
    answer = input("\nDo you want to perform these actions? Only 'yes' will be accepted: ")
    return answer.strip() == "yes"


def unplanned(plan: Plan) -> str:
    return f"{len(plan.errors)} organization(s) could not be planned ({', '.join(o.org for o in plan.errors)})"


def print_report(report: ApplyReport, plan: Plan) -> None:
    """One line per change; under --quiet only the failures and the summary (the results). The last line
    says "complete" only when every org was planned and every change applied (exit 0, never 4)."""
    for outcome in report.outcomes:
        c = outcome.change
        mark = render_text.SYMBOL[c.action] if outcome.ok else "✗"
        # The name may be a live label, the message quotes ids and vendor errors: one line each, escaped.
        line = f"{mark} {c.org}/{neutral.text(c.webhook)}: {neutral.text(outcome.message)}"
        output.emit(line, always=not outcome.ok)
    created, updated, deleted = webhook_counts(action_counts(o.change for o in report.applied))
    summary = f"{created} created, {updated} updated, {deleted} deleted"
    skipped = sum(1 for o in report.failed if o.not_attempted)
    tried = len(report.failed) - skipped
    missed = [f"{tried} failed"] if tried else []
    if skipped:
        missed.append(f"{skipped} not attempted")
    if plan.errors:
        missed.append(unplanned(plan))
    if not missed:
        output.emit(f"Apply complete: {summary}.", always=True)
        return
    if report.applied:
        verdict = "Apply finished partly"
    elif any(o.may_have_changed for o in report.failed):
        verdict = "Apply failed; a failed change may have taken effect (a re-run converges)"
    else:
        verdict = "Apply failed, nothing changed"
    output.emit(f"{verdict}: {summary}; {', '.join(missed)}.", always=True)
