"""The `reconciler` process itself: `entry()` ends it without tearing down its heap, so it must still flush
every byte, keep the exit code, and stay quiet when its reader goes away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reconciler import __version__

RECONCILER = [sys.executable, "-m", "reconciler"]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RECONCILER, *args], capture_output=True, text=True, timeout=60, check=False)


def test_version_is_printed_and_exits_0() -> None:
    result = run(["--version"])
    assert (result.returncode, result.stdout, result.stderr) == (0, f"reconciler {__version__}\n", "")


def test_long_output_arrives_whole_through_a_pipe() -> None:
    """Output is buffered when stdout is a pipe: all of it is flushed before the process ends."""
    result = run(["plan", "--help"])
    assert result.returncode == 0
    assert result.stdout.startswith("usage: reconciler plan") and result.stdout.endswith("\n")
    assert "--parallelism N" in result.stdout and result.stderr == ""


def test_error_output_and_exit_code_survive(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\norganizations: []\n")
    result = run(["validate", str(bad)])
    assert result.returncode == 1
    assert f"{bad}:1:10:" in result.stderr and "nothing was sent to any API" in result.stderr


def test_usage_error_exits_1() -> None:
    result = run(["plan"])
    assert result.returncode == 1 and "error:" in result.stderr


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    """`reconciler ... | head -c 10`: the rest of the output has nowhere to go; that is not an error worth
    a traceback."""
    process = subprocess.Popen(
        [*RECONCILER, "plan", "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the child writes: its flush meets a closed pipe
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
