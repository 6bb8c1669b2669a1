"""`reconciler apply`: execute a plan (fresh, or a saved one that must still be current)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from reconciler.commands import output
from reconciler.commands.common import add_lock_timeout, add_policy, add_selection, load
from reconciler.core import neutral, shards
from reconciler.core.errors import ReconcilerError, StalePlan
from reconciler.core.exits import Exit
from reconciler.core.model import Organization
from reconciler.core.plan import Plan, action_counts, check_safety, masked_digest, webhook_counts
from reconciler.core.selection import select_orgs
from reconciler.engine.applier import ApplyReport, apply_plan, flush_recovery
from reconciler.engine.session import OrgState, Session, plan_orgs
from reconciler.manifest.schema import MANIFEST_SCHEMA_PATH
from reconciler.render import json as render_json
from reconciler.render import metrics
from reconciler.render import text as render_text

PLAN_SCHEMA_PATH = MANIFEST_SCHEMA_PATH.with_name("plan.schema.json")


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
    saved: dict[str, Any] | None = None
    if args.plan:
        if args.paths or args.orgs or args.exclude_orgs or args.policy or args.shard:
            # As Terraform refuses -var with a saved plan: the plan alone says what it was made with.
            raise ReconcilerError(
                "--plan FILE applies the saved plan's manifests, orgs and shard, with the policy file it records: "
                "give no PATH, --org or --exclude-org (nor --policy), nor --shard"
            )
        saved = read_saved(args.plan)
        recorded = saved.get("policy_file")
        manifest = load(saved["paths"], recorded["path"] if recorded else None)
        if manifest.digest != saved["manifest_digest"]:
            raise StalePlan("stale plan: the manifests changed since it was made; nothing applied")
        if recorded and (manifest.policy_file is None or manifest.policy_file.digest != recorded["digest"]):
            moved = f"the policy file {recorded['path']} changed since it was made"
            raise StalePlan(f"stale plan: {moved}; nothing applied")
        names = [o["name"] for o in saved["organizations"]]
        orgs = select_orgs(manifest, names) if names else []  # an empty shard's plan: no org, never all
        if masked_digest(manifest.digest, orgs) != saved.get("masked_digest"):
            if "masked_digest" in saved:
                moved = "a webhook value from ${env:...} changed since it was made"
            else:  # made before plans recorded one: it cannot vouch for the env values
                moved = "it was made by an older version, which did not record the ${env:...} webhook values"
            raise StalePlan(f"stale plan: {moved}; nothing applied. Run plan again.")
    else:
        if not args.paths:
            raise ReconcilerError("apply needs PATH... or --plan FILE")
        manifest = load(args.paths, args.policy)
        orgs = shards.select(select_orgs(manifest, args.orgs, args.exclude_orgs), args.shard)
    session = Session(manifest, read_only=False, parallelism=args.parallelism, lock_timeout=args.lock_timeout)
    try:
        return locked_apply(args, session, orgs, saved)
    finally:
        session.release_locks()


def locked_apply(
    args: argparse.Namespace, session: Session, orgs: list[Organization], saved: dict[str, Any] | None
) -> int:
    """SPEC §5.1: the plan an apply executes is made once its orgs are locked, so of two racing runs the
    second sees the first one's work (a saved plan is checked for staleness then, too)."""
    locked_out = session.lock_orgs(orgs)
    ready = [o for o in orgs if o.name not in locked_out]
    flush(session, ready)
    plan, states = plan_orgs(session, orgs, unavailable=locked_out)
    metrics.observe_plan(plan, applied=True)
    if saved is not None:
        check_current(plan, saved, skip=locked_out)
        output.emit(f"Applying the saved plan {args.plan}: {render_text.summary_line(plan.counts())}")
    else:
        # Under --quiet the plan is still shown when a person is asked to confirm it.
        colour = output.colour_enabled(args.no_color)
        output.emit(render_text.render_plan(plan, colour=colour), always=not args.auto_approve)
    check_safety(plan, allow_deletes=args.allow_deletes)
    rewrite_indexes(session, states)
    if not plan.has_changes:
        if plan.errors:  # an org that could not be read is no proof that anything matches
            output.emit(f"Apply failed, nothing changed: {unplanned(plan)}.", always=True)
        else:
            output.emit("No changes. The live webhooks match the manifests.", always=True)  # the result, as a summary
        return report_errors(plan, applied=False)
    if saved is None and not confirmed(args.auto_approve):
        output.emit("Apply cancelled; nothing changed.", always=True)
        return Exit.ERROR
    with output.progress(f"applying {len(plan.changes)} change(s) to {len(states)} organization(s)"):
        report = apply_plan(session, plan, states)
    metrics.observe_apply((o.change, o.ok) for o in report.outcomes)
    print_report(report, plan)
    if report.interrupted:
        output.error("interrupted: no further change was started; apply again to finish")
        return Exit.INTERRUPTED
    code = report_errors(plan, applied=bool(report.applied), failed=bool(report.failed))
    if code == Exit.OK:
        return verify(session, plan, states)
    return code


def flush(session: Session, orgs: list[Organization]) -> None:
    """Secrets an earlier run had to keep in a recovery file go to their store before anything else."""
    for org in orgs:
        for line in flush_recovery(session, org):
            output.emit(line)


def rewrite_indexes(session: Session, states: dict[str, OrgState]) -> None:
    """SPEC §5: an index record found missing or unreadable is rewritten from the per-webhook records."""
    for state in states.values():
        if state.index_rebuilt:
            session.store(state.org).write_index(state.org.name, state.index)
            output.emit(
                f"{state.org.name}: the index record was missing or unreadable; rewritten from the per-webhook "
                f"records ({len(state.index)} webhook(s))"
            )


def read_saved(path: str) -> dict[str, Any]:
    """The saved plan, checked against schemas/plan.schema.json before anything trusts its fields."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except OSError as exc:
        raise ReconcilerError(f"{path}: cannot read the plan file ({exc.strerror or exc.__class__.__name__})") from None
    except ValueError:
        raise ReconcilerError(f"{path}: not a webhook-reconciler plan (not JSON)") from None
    with PLAN_SCHEMA_PATH.open(encoding="utf-8") as handle:
        validator = Draft202012Validator(json.load(handle))
    problem = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "top level"
        # The message names the field, never its value: a foreign file may hold anything.
        raise ReconcilerError(
            f"{path}: not a webhook-reconciler plan ({where}: does not match schemas/plan.schema.json); "
            "make one with `reconciler plan PATH... -o FILE`"
        )
    if any(o["error"] for o in doc["organizations"]):
        raise ReconcilerError(f"{path}: the plan has organizations that could not be planned; plan again")
    result: dict[str, Any] = doc
    return result


def check_current(plan: Plan, saved: dict[str, Any], *, skip: Mapping[str, str]) -> None:
    """The saved plan must be exactly what the live state would plan now (octoDNS's checksum idea). The
    orgs in `skip` (locked by another run) fail on their own and are not applied."""
    now = {o["name"]: o for o in render_json.plan_document(plan)["organizations"]}
    for old in saved["organizations"]:
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
    then, now = (c["action"] if c else "nothing" for c in (before, after))
    if before is None or after is None or then != now:
        return f"{name} ({then} → {now})"
    old, new = ({f["field"]: f for f in c["fields"]} for c in (before, after))
    fields = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return f"{name} ({then}: {', '.join(fields) or 'details'} moved)"


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


def report_errors(plan: Plan, *, applied: bool, failed: bool = False) -> int:
    for org in plan.errors:
        output.error(f"error: {org.org}: {neutral.text(org.error)}")
    if failed or plan.errors:
        return Exit.PARTIAL if applied else Exit.ERROR
    return Exit.OK


def verify(session: Session, plan: Plan, states: dict[str, OrgState]) -> int:
    """SPEC §7: a fresh plan of the same manifests is empty; otherwise say what did not converge."""
    orgs = [states[o.org].org for o in plan.orgs if o.changes and o.org in states]
    check = Session(session.manifest, read_only=True, parallelism=session.parallelism)
    again, _ = plan_orgs(check, orgs)
    if not again.changes and not again.errors:
        return Exit.OK
    output.error("error: apply did not converge; a fresh plan still shows:")
    for change in again.changes:
        fields = ", ".join(f.field for f in change.shown_fields) or change.action
        output.error(f"  {change.org}/{neutral.text(change.webhook)}: {change.action} ({fields})")
    for org in again.errors:
        output.error(f"  {org.org}: {neutral.text(org.error)}")
    return Exit.ERROR
