"""A missing real component skips the tests on a workstation and fails them in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("ci", "code", "outcome"), [("true", 1, "ERROR"), ("", 0, "SKIPPED")])
def test_keyring_tests_without_daemons(ci: str, code: int, outcome: str) -> None:
    env = {**os.environ, "CI": ci, "PATH": str(Path(sys.executable).parent)}  # no dbus-daemon on PATH
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "tests/stores/test_keyring_store.py::test_round_trip",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code, result.stdout
    assert outcome in result.stdout, result.stdout
    assert "dbus-daemon" in result.stdout and "gnome-keyring" in result.stdout
