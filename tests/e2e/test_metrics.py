"""contract §7.1 `--metrics-file FILE` on plan, apply and drift, read back with prometheus-client's own parser:
a drifted, a clean and a failed run; no env-sourced value in a label."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.world import World

FAMILIES = {
    "webhook_reconciler_organizations",
    "webhook_reconciler_changes",
    "webhook_reconciler_secrets_missing",
    "webhook_reconciler_delivery_failures",
    "webhook_reconciler_last_run_timestamp_seconds",
    "webhook_reconciler_run_duration_seconds",
    "webhook_reconciler_exit_code",
}


def hook(name: str, path: str = "") -> dict[str, Any]:
    return {"name": name, "url": f"https://hooks.acme.example/{name}{path}", "events": ["drift.detected"]}


def read(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the file, by name and labels; the families must be those of contract §7.1, all gauges."""
    families = list(text_string_to_metric_families(path.read_text()))
    assert {f.name for f in families} == FAMILIES
    assert {f.type for f in families} == {"gauge"}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def organizations(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {dict(labels)["result"]: v for (name, labels), v in samples.items() if name.endswith("_organizations")}


def per_org(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], metric: str) -> dict[tuple[str, ...], float]:
    return {
        tuple(v for _, v in labels): value
        for (name, labels), value in samples.items()
        if name == f"webhook_reconciler_{metric}"
    }


def test_clean_then_drifted_drift_and_plan(world: World) -> None:
    orgs = [world.org("acme", "infraaudit", [hook("a"), hook("b")]), world.org("beta", "infraaudit", [hook("c")])]
    manifest = world.write(orgs)
    metrics = world.tmp / "metrics.prom"
    applied = world.run("apply", manifest, "--auto-approve", "--metrics-file", metrics)
    assert applied.code == 0, applied.text
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 0, "changes": 2, "error": 0}
    assert per_org(samples, "changes")[("create", "acme")] == 2
    assert per_org(samples, "changes")[("create", "beta")] == 1
    assert samples[("webhook_reconciler_exit_code", ())] == 0

    before = time.time()
    clean = world.run("drift", manifest, "--metrics-file", metrics)
    assert clean.code == 0
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 2, "changes": 0, "error": 0}
    assert per_org(samples, "secrets_missing") == {("acme",): 0, ("beta",): 0}
    assert per_org(samples, "delivery_failures") == {("acme",): 0, ("beta",): 0}
    assert set(per_org(samples, "changes").values()) == {0}
    assert samples[("webhook_reconciler_exit_code", ())] == 0
    assert before <= samples[("webhook_reconciler_last_run_timestamp_seconds", ())] <= time.time()
    assert 0 < samples[("webhook_reconciler_run_duration_seconds", ())] < 60

    import keyring

    keyring.delete_password(world.service, "acme/a")
    orgs[1]["webhooks"] = [hook("c", "/v2"), hook("d")]
    manifest = world.write(orgs)
    drifted = world.run("drift", manifest, "--metrics-file", metrics)
    assert drifted.code == 2
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 0, "changes": 2, "error": 0}
    assert per_org(samples, "secrets_missing") == {("acme",): 1, ("beta",): 0}
    changes = per_org(samples, "changes")
    assert (changes[("create", "beta")], changes[("update", "beta")], changes[("delete", "beta")]) == (1, 1, 0)
    assert samples[("webhook_reconciler_exit_code", ())] == 2

    plan = world.run("plan", manifest, "--detailed-exitcode", "--metrics-file", metrics)
    assert plan.code == 2
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 1, "changes": 1, "error": 0}
    assert per_org(samples, "secrets_missing") == {}  # drift's to know; the family is still there
    assert samples[("webhook_reconciler_exit_code", ())] == 2


def test_failed_runs_still_write_the_file(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAD_TOKEN", "not-a-valid-token")
    good = world.org("good", "infraaudit", [hook("a")])
    bad = world.org("locked-out", "encrata", [{"name": "x", "url": "https://hooks.acme.example/x"}],
                    token="${env:BAD_TOKEN}")
    manifest = world.write([good, bad])
    metrics = world.tmp / "metrics.prom"
    for command in (("drift",), ("plan",), ("apply", "--auto-approve")):
        result = world.run(*command, manifest, "--metrics-file", metrics)
        assert result.code in (1, 4), result.text
        samples = read(metrics)
        assert organizations(samples)["error"] == 1, command
        assert samples[("webhook_reconciler_exit_code", ())] == result.code
    # A run that fails before any org: bad manifests.
    (world.tmp / "broken.yaml").write_text("version: 1\norganizations: [{name: x}]\n")
    broken = world.run("drift", world.tmp / "broken.yaml", "--metrics-file", metrics)
    assert broken.code == 1
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 0, "changes": 0, "error": 0}
    assert samples[("webhook_reconciler_exit_code", ())] == 1
    assert not list(world.tmp.glob("metrics.prom.*"))  # no temporary file left beside it


def test_no_env_sourced_name_in_a_label(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORG_NAME", "tenant-4711-secret")
    orgs = [world.org("${env:ORG_NAME}", "infraaudit", [hook("a")]), world.org("plain", "infraaudit", [hook("b")])]
    manifest = world.write(orgs)
    metrics = world.tmp / "metrics.prom"
    result = world.run("plan", manifest, "--metrics-file", metrics)
    assert result.code == 0, result.text
    text = metrics.read_text()
    assert "tenant-4711-secret" not in text and "ORG_NAME" not in text
    samples = read(metrics)
    assert organizations(samples) == {"in_sync": 0, "changes": 2, "error": 0}  # still counted
    assert {labels[1] for labels in per_org(samples, "changes")} == {"plain"}


def test_an_unwritable_metrics_file_is_an_error(world: World) -> None:
    manifest = world.write([world.org("acme", "infraaudit", [hook("a")])])
    result = world.run("plan", manifest, "--metrics-file", world.tmp / "missing-dir" / "m.prom")
    assert result.code == 1 and "cannot write the metrics file" in result.err
