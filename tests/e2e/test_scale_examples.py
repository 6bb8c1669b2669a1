"""The scale-out examples run as written: the Kubernetes CronJob (validated against the Kubernetes schemas by
kubernetes-validate, offline) and the GitHub Actions shard matrix (GitHub's workflow schema and actionlint);
their shell steps are run with the real `reconciler` command against the sandbox, shard by shard, and the
merged report equals an unsharded drift. The CronJob's metrics push is received by a local Pushgateway stand-in."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.world import World
from tests.fixtures.keyring_service import unavailable

ROOT = Path(__file__).resolve().parents[2]
CRONJOB = ROOT / "examples" / "kubernetes" / "drift-cronjob.yaml"
WORKFLOW = ROOT / "examples" / "github" / "drift-shards.yml"
BIN = Path(sys.executable).parent  # the `reconciler` console script of this install


def needs_module(name: str) -> None:
    import importlib.util

    if importlib.util.find_spec(name) is None:
        unavailable(f"{name} is needed (the `test` extra of pyproject.toml installs it)")


def test_cronjob_matches_the_kubernetes_schemas() -> None:
    needs_module("kubernetes_validate")
    import kubernetes_validate  # type: ignore[import-untyped]

    documents = [d for d in yaml.safe_load_all(CRONJOB.read_text()) if d]
    assert {d["kind"] for d in documents} == {"CronJob", "PersistentVolumeClaim"}
    for document in documents:  # strict: an unknown or misspelt field is an error too
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_github_matrix_workflow_is_valid() -> None:
    needs_module("check_jsonschema")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    actionlint = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if actionlint is None:
        if os.environ.get("CI") == "true":
            pytest.fail("actionlint is missing: install the test extra")
        pytest.skip("actionlint is not installed (test extra, Linux x86_64)")
    result = subprocess.run([actionlint, str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


EVENTS = {"infraaudit": ["drift.detected"], "keeptrusts": ["event.blocked"], "encrata": ["credits.low"]}


def drifted(world: World, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Eight orgs with their own keys in webhooks/, applied, then a missing secret and a changed URL."""
    providers = ["ingate", "infraaudit", "keeptrusts", "encrata"] * 2
    orgs = []
    for i, provider in enumerate(providers):
        monkeypatch.setenv(f"KEY_{i}", "sandbox-token")
        spec: dict[str, Any] = {"name": "alerts", "url": f"https://hooks.acme.example/{i}"}
        if provider in EVENTS:
            spec["events"] = EVENTS[provider]
        orgs.append(world.org(f"acme-{i}", provider, [spec], token="${env:KEY_" + str(i) + "}"))
    (world.tmp / "webhooks").mkdir()
    manifest = world.write(orgs, name="webhooks/acme.yaml")
    assert world.run("apply", manifest, "--auto-approve").code == 0
    keyring.delete_password(world.service, "acme-1/alerts")
    orgs[5]["webhooks"][0]["url"] = "https://hooks.acme.example/moved"
    world.write(orgs, name="webhooks/acme.yaml")
    return world.tmp / "webhooks"


def sh(script: str, env: dict[str, str], cwd: Path, shell: str = "sh") -> subprocess.CompletedProcess[str]:
    path = f"{BIN}{os.pathsep}{env.get('PATH', os.environ['PATH'])}"
    return subprocess.run([shell, "-c", script], env={**os.environ, **env, "PATH": path}, cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A stand-in that keeps what is PUT to it, by path."""
    received: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            received[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_cronjob_pods_run_as_written(
    world: World, monkeypatch: pytest.MonkeyPatch, pushgateway: tuple[str, dict[str, bytes]]
) -> None:
    webhooks = drifted(world, monkeypatch)
    (cronjob,) = [d for d in yaml.safe_load_all(CRONJOB.read_text()) if d and d["kind"] == "CronJob"]
    job = cronjob["spec"]["jobTemplate"]["spec"]
    (container,) = job["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert job["completionMode"] == "Indexed" and int(env["SHARDS"]) == job["completions"]
    reports = world.tmp / "reports"
    reports.mkdir()
    url, received = pushgateway
    # The pod's own environment, where the volumes are directories here and the Pushgateway is local.
    env = {**env, "WEBHOOKS_DIR": str(webhooks), "REPORTS_DIR": str(reports), "PUSHGATEWAY_URL": url}
    env.pop("PATH"), env.pop("PYTHONPATH"), env.pop("HOME")
    script = container["args"][0]
    assert container["command"] == ["/bin/sh", "-c"]
    for index in range(job["completions"]):
        pod = sh(script.replace("/tmp/metrics.prom", str(world.tmp / f"m{index}.prom")),
                 {**env, "JOB_COMPLETION_INDEX": str(index)}, world.tmp)
        assert pod.returncode == 0, pod.stdout + pod.stderr  # drift (2) is the report's to tell, not a failure
    whole = world.run("drift", webhooks, "--format", "json")
    assert whole.code == 2
    merged = world.run("merge-reports", *sorted(reports.glob("drift-*.json")), "--format", "json")
    assert (merged.code, merged.out) == (whole.code, whole.out)
    assert sorted(received) == [f"/metrics/job/webhook-drift/shard/{k}" for k in range(job["completions"])]
    errors = 0.0
    for body in received.values():
        for family in text_string_to_metric_families(body.decode()):
            errors += sum(s.value for s in family.samples if s.labels.get("result") == "error")
    assert errors == 0


def test_github_matrix_runs_as_written(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    webhooks = drifted(world, monkeypatch)
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    shards = workflow["jobs"]["drift"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(int(workflow["env"]["SHARDS"])))
    step = next(s for s in workflow["jobs"]["drift"]["steps"] if "reconciler drift" in s.get("run", ""))
    env = {"SHARDS": str(workflow["env"]["SHARDS"])}
    monkeypatch.chdir(webhooks.parent)
    for shard in shards:
        script = "set -e\n" + step["run"].replace("${{ matrix.shard }}", str(shard))  # GitHub's `bash -e`
        result = sh(script, env, webhooks.parent, shell="bash")
        assert result.returncode == 0, result.stdout + result.stderr
    merge = next(s for s in workflow["jobs"]["report"]["steps"] if "merge-reports" in s.get("run", ""))
    assert merge["shell"] == "bash -o pipefail {0}"
    summary = world.tmp / "summary.md"
    result = sh("set -o pipefail\n" + merge["run"], {"GITHUB_STEP_SUMMARY": str(summary)}, webhooks.parent,
                shell="bash")
    assert result.returncode == 2  # drift fails the final job
    unsharded = world.run("drift", "webhooks/", "--format", "markdown")
    assert summary.read_text() == unsharded.out
    assert json.loads((webhooks.parent / "drift.json").read_text()) == json.loads(
        world.run("drift", "webhooks/", "--format", "json").out
    )
