"""`make demo` is the front door: it must run end to end on a fresh machine (sandbox + private keyring)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "reconciler.devtools.demo"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Plan: 0 to create, 0 to update, 0 to delete." in done.stdout
    assert "No drift: 5 organization(s) in sync." in done.stdout
    assert done.stdout.count(": stored (") == 6
    by_hand = (tmp_path / ".demo" / "by-hand" / "webhooks.yaml").read_text()  # for README's "Try it by hand"
    assert "base_url: ${env:SANDBOX_URL}/immuta/marketplace" in by_hand and "${env:SANDBOX_TOKEN}" in by_hand
    assert "Try it by hand" in done.stdout
