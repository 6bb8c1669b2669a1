"""`--metrics-file FILE` (contract §7.1): the run's results in the Prometheus text exposition format, for
node_exporter's textfile collector or a Pushgateway.

The command records what it found (`observe_*`); `cli.main` writes the file once the exit code is known, also
when the run failed. The file is made by prometheus-client (its registry and `write_to_textfile`, which writes a
temporary file and renames it), never formatted here. Labels hold org names and fixed words only; an org whose
name came from `${env:...}` (or holds a value the redactor masks) has no per-org series, so no env-sourced
value or secret can reach a label: it is still counted in `webhook_reconciler_organizations`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Organization
from reconciler.core.plan import Change, Plan, action_counts, webhook_counts
from reconciler.core.redact import scrub
from reconciler.core.report import DriftReport

Result = Literal["in_sync", "changes", "error"]
RESULTS: tuple[Result, ...] = ("in_sync", "changes", "error")
ACTIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class OrgMetrics:
    result: Result
    changes: tuple[int, int, int] = (0, 0, 0)  # webhooks to create, update, delete (a replace is one of each)
    secrets_missing: int | None = None  # drift only: secrets missing or stale
    delivery_failures: int | None = None  # drift only


@dataclass
class Run:
    """What one run found, filled in by its command."""

    started: float = field(default_factory=time.time)
    started_monotonic: float = field(default_factory=time.monotonic)
    orgs: dict[str, OrgMetrics] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)  # env-sourced org names: counted, never a label


_run = Run()


def begin() -> None:
    global _run
    _run = Run()


def _counts(changes: Iterable[Change]) -> tuple[int, int, int]:
    return webhook_counts(action_counts(changes))


def hide_env_names(orgs: Iterable[Organization]) -> None:
    _run.hidden.update(o.name for o in orgs if o.name_from_env)


def observe_plan(plan: Plan, *, applied: bool = False) -> None:
    """The plan's orgs. With `applied` (apply, before it changes anything), each org's change counts start at
    zero: `observe_apply` counts what was applied."""
    for org in plan.orgs:
        result: Result = "error" if org.error else "changes" if org.changes else "in_sync"
        _run.orgs[org.org] = OrgMetrics(result, (0, 0, 0) if applied else _counts(org.changes))


def observe_apply(outcomes: Iterable[tuple[Change, bool]]) -> None:
    """(change, applied?) pairs: the applied ones are counted; an org with a failed change is an error."""
    done: dict[str, list[Change]] = {}
    failed: set[str] = set()
    for change, ok in outcomes:
        done.setdefault(change.org, [])
        if ok:
            done[change.org].append(change)
        else:
            failed.add(change.org)
    for org, changes in done.items():
        before = _run.orgs.get(org, OrgMetrics("changes"))
        result: Result = "error" if org in failed else before.result
        _run.orgs[org] = OrgMetrics(result, _counts(changes))


def observe_drift(report: DriftReport) -> None:
    for org in report.orgs:
        drifted = org.drifted(fail_on_delivery_errors=report.fail_on_delivery_errors)
        result: Result = "error" if org.error else "changes" if drifted else "in_sync"
        checked = org.error is None
        _run.orgs[org.plan.org] = OrgMetrics(
            result,
            _counts(org.plan.changes),
            len(org.secrets_not_stored) if checked else None,
            len(org.delivery_failures) if checked else None,
        )


def write(path: str, exit_code: int) -> None:
    """The exposition file, replaced atomically (a collector never reads half of it)."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"webhook_reconciler_{name}", doc, labels, registry=registry)

    organizations = gauge("organizations", "Organizations of the run by result", ("result",))
    changes = gauge("changes", "Webhook changes per organization (planned; applied for apply)", ("org", "action"))
    secrets = gauge("secrets_missing", "Managed webhooks whose secret is missing or stale (drift)", ("org",))
    deliveries = gauge("delivery_failures", "Managed webhooks whose deliveries fail (drift)", ("org",))
    by_result = {result: 0 for result in RESULTS}
    for org in _run.orgs.values():
        by_result[org.result] += 1
    for result, count in by_result.items():
        organizations.labels(result=result).set(count)
    for name, org in sorted(_labelled(_run.orgs).items()):
        for action, count in zip(ACTIONS, org.changes, strict=True):
            changes.labels(org=name, action=action).set(count)
        if org.secrets_missing is not None:
            secrets.labels(org=name).set(org.secrets_missing)
        if org.delivery_failures is not None:
            deliveries.labels(org=name).set(org.delivery_failures)
    gauge("last_run_timestamp_seconds", "When the run ended (Unix time)").set(time.time())
    gauge("run_duration_seconds", "How long the run took").set(time.monotonic() - _run.started_monotonic)
    gauge("exit_code", "The run's exit code (0 ok; 2 changes or drift; 1, 3, 4 failures)").set(exit_code)
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        raise ReconcilerError(f"cannot write the metrics file {path}: {exc.strerror or exc}") from None


def _labelled(orgs: Mapping[str, OrgMetrics]) -> dict[str, OrgMetrics]:
    """The orgs whose names may be labels: not from ${env:...}, and holding nothing the redactor masks."""
    return {name: org for name, org in orgs.items() if name not in _run.hidden and scrub(name) == name}
