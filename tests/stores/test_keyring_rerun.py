"""The test suite's own safety net for gnome-keyring's crash (tests/fixtures/keyring_service.py): a test whose
daemon died under it runs once more on a fresh daemon; a test that fails with its daemon alive does not, whatever
its message says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from reconciler.devtools.keyring_session import KeyringSession

ROOT = Path(__file__).resolve().parents[2]

TESTS = '''
import signal

import pytest


def test_daemon_aborts_on_the_first_attempt(keyring_session, request):
    if request.node.execution_count == 1:
        daemon = keyring_session._processes[-1]  # gnome-keyring-daemon, after the bus
        daemon.send_signal(signal.SIGABRT)  # what its GLib assertion does
        daemon.wait()
        pytest.fail("The keyring is locked")
    assert keyring_session.alive()


def test_fails_with_its_daemon_alive(keyring_session):
    pytest.fail("The keyring is locked")
'''


def test_only_a_test_whose_daemon_died_runs_again(tmp_path: Path, keyring_session: KeyringSession) -> None:
    """`keyring_session` only so that the probe's daemons exist (a missing one fails in CI, skips elsewhere)."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.fixtures.keyring_service"]\n')
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(TESTS))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert "1 failed, 1 passed" in summary and "1 rerun" in summary, run.stdout
    assert run.stdout.startswith("R.F"), run.stdout  # the first test: rerun, then passed; the second: failed
    assert "the test Secret Service died and was restarted" in run.stdout, run.stdout
