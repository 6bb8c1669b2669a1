"""Terminal manners: colour only on a TTY (never with NO_COLOR or --no-color), a progress line only on a
TTY, --quiet prints only results, global flags on either side of the sub-command, and the interactive
confirmation of `apply` (run on a real pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from reconciler.sandbox import Faults
from tests.e2e.world import TOKEN_ENV, World

ANSI = "\033["
READ_LIMIT_S = 60  # a safety bound on a hung child, not a timing assertion


def manifest(world: World, hooks: int = 1) -> Path:
    webhooks = [{"name": f"h{i}", "url": f"https://hooks.acme.example/{i}"} for i in range(hooks)]
    return world.write([world.org("acme", "ingate", webhooks)])


@dataclass(frozen=True)
class Screen:
    code: int
    text: str  # everything the terminal showed: stdout and stderr together, as on a screen


def on_terminal(world: World, args: list[str], *, answer: str | None = None, colour_env: bool = True) -> Screen:
    """Run the real CLI with stdin, stdout and stderr on a pseudo-terminal; type `answer` at the prompt."""
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring", TERM="xterm")
    if colour_env:
        env.pop("NO_COLOR", None)
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=world.tmp
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], READ_LIMIT_S)
            if not ready:
                child.kill()
                pytest.fail(f"no output for {READ_LIMIT_S}s; screen so far:\n{seen.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if answer is not None and b"Only 'yes' will be accepted:" in seen:
                os.write(master, answer.encode() + b"\n")
                answer = None
    finally:
        os.close(master)
    code = child.wait(timeout=READ_LIMIT_S)
    text = seen.decode(errors="replace")
    world.outputs.append(text)  # part of the leak scan
    return Screen(code, text)


# -- colour -----------------------------------------------------------------------------------------


def test_colour_on_a_terminal_only(world: World) -> None:
    path = str(manifest(world))
    assert ANSI in on_terminal(world, ["plan", path]).text
    assert ANSI not in world.run("plan", path).text  # not a terminal (and NO_COLOR is set)


@pytest.mark.parametrize("flags", [["--no-color", "plan"], ["plan", "--no-color"]], ids=["before", "after"])
def test_no_color_flag_on_a_terminal(world: World, flags: list[str]) -> None:
    screen = on_terminal(world, [*flags, str(manifest(world))])
    assert screen.code == 0 and "Plan: 1 to create" in screen.text
    assert ANSI not in screen.text


def test_no_color_environment_on_a_terminal(world: World) -> None:
    screen = on_terminal(world, ["plan", str(manifest(world))], colour_env=False)  # NO_COLOR=1 stays set
    assert screen.code == 0 and "Plan: 1 to create" in screen.text
    assert ANSI not in screen.text


# -- the confirmation -------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["no", "y", "YES please", ""])
def test_apply_on_a_terminal_changes_nothing_unless_yes(world: World, answer: str) -> None:
    path = str(manifest(world))
    screen = on_terminal(world, ["apply", path], answer=answer)
    assert "Do you want to perform these actions?" in screen.text
    assert "Apply cancelled; nothing changed." in screen.text
    assert screen.code == 1
    assert world.live("ingate", "acme") == []


def test_apply_on_a_terminal_applies_after_yes(world: World) -> None:
    path = str(manifest(world))
    screen = on_terminal(world, ["apply", path], answer="yes")
    assert screen.code == 0, screen.text
    assert "Apply complete: 1 created" in screen.text
    assert len(world.live("ingate", "acme")) == 1


# -- progress ---------------------------------------------------------------------------------------


def test_slow_apply_shows_progress_on_a_terminal_only(world: World) -> None:
    path = str(manifest(world, hooks=2))
    # Two creates, one after another within the org, together well past the progress delay.
    world.sandbox.set_faults(Faults(latency_ms=300), "ingate")
    screen = on_terminal(world, ["apply", path, "--auto-approve"])
    assert screen.code == 0, screen.text
    assert "applying 2 change(s) to 1 organization(s)" in screen.text

    world.write([world.org("acme", "ingate", [{"name": "h9", "url": "https://hooks.acme.example/9"}])])
    piped = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert piped.code == 0, piped.text
    assert "applying" not in piped.text and "\r" not in piped.text


# -- --quiet and global flags -----------------------------------------------------------------------


@pytest.mark.parametrize("position", ["before", "after"])
def test_global_flags_on_either_side(world: World, position: str) -> None:
    path = str(manifest(world))
    for flag in ("--debug", "--no-color", "--quiet"):
        args = [flag, "plan", path] if position == "before" else ["plan", path, flag]
        result = world.run(*args)
        assert result.code == 0, (flag, result.text)
        if flag == "--quiet":
            assert result.out == "Plan: 1 to create, 0 to update, 0 to delete.\n"  # only the result
        else:
            assert "Plan: 1 to create" in result.out
        if flag == "--debug":
            assert "DEBUG" in result.err  # HTTP traces, redacted
            assert os.environ[TOKEN_ENV] not in result.err


@pytest.mark.parametrize("args", [["drift"], ["drift", "x.yaml", "--no-such-flag"], ["--no-such-flag"]])
def test_usage_error_is_exit_1_never_the_drift_code(world: World, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        world.run(*args)
    assert exited.value.code == 1


def test_quiet_keeps_results_and_errors(world: World) -> None:
    path = str(manifest(world))
    as_json = world.run("plan", path, "--format", "json", "--quiet")
    assert as_json.code == 0 and json.loads(as_json.out)["summary"]["create"] == 1
    as_markdown = world.run("--quiet", "plan", path, "--format", "markdown")
    assert as_markdown.out.startswith("<!-- webhook-reconciler:plan:default -->\n### webhook-reconciler plan")

    applied = world.run("apply", path, "--auto-approve", "--quiet")
    assert applied.code == 0
    assert applied.out == "Apply complete: 1 created, 0 updated, 0 deleted.\n"
    again = world.run("apply", path, "--auto-approve", "--quiet")
    assert (again.code, again.out) == (0, "No changes. The live webhooks match the manifests.\n")

    imported = world.run(
        "import",
        "--provider",
        "ingate",
        "--base-url",
        world.sandbox.base_url("ingate", account="acme"),
        "--token-env",
        TOKEN_ENV,
        "--quiet",
    )
    assert imported.code == 0 and yaml.safe_load(imported.out)["version"] == 1

    failed = world.run("plan", path, "--org", "nope", "--quiet")
    assert failed.code == 1 and "no organization matches 'nope'" in failed.err


def test_saved_plan_written_under_quiet(world: World) -> None:
    path = str(manifest(world))
    plan_file = world.tmp / "plan.json"
    result = world.run("--quiet", "plan", path, "-o", str(plan_file), "--detailed-exitcode")
    assert result.code == 2 and (result.out, result.err) == ("Plan: 1 to create, 0 to update, 0 to delete.\n", "")
    assert json.loads(plan_file.read_text())["kind"] == "plan"
