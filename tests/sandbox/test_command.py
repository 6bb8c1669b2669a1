"""`reconciler sandbox` as a subprocess: five lines, a working server, a clean exit on a signal."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.providers.capabilities import PROVIDER_NAMES
from tests.fixtures.keyring_service import unavailable


def start(*flags: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_lines(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    lines = [proc.stdout.readline().rstrip("\n") for _ in PROVIDER_NAMES]
    assert [line.split(" ")[0] for line in lines] == list(PROVIDER_NAMES)
    return dict(line.split(" ", 1) for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_prints_five_base_urls_serves_until_interrupted_and_exits_130(sig: signal.Signals) -> None:
    proc = start("--token", "t0k", "--variant", "encrata=sdk", "--no-encrata-rate-limit")
    try:
        urls = read_lines(proc)
        assert urls["immuta"].endswith("/immuta/marketplace")
        assert urls["ingate"].startswith("http://127.0.0.1:")
        with httpx.Client(headers={"Authorization": "Bearer t0k"}) as client:
            r = client.get(urls["encrata"] + "/api/webhooks")
            assert r.status_code == 200 and r.json() == {"webhooks": []}  # the sdk variant
            # The limit is lifted: the 31st request in a minute is served too.
            assert all(client.get(urls["encrata"] + "/api/webhooks").status_code == 200 for _ in range(30))
        r = httpx.get(urls["ingate"] + "/api/v1/webhooks", headers={"Authorization": "Bearer sandbox-token"})
        assert r.status_code == 401
    finally:
        proc.send_signal(sig)
        assert proc.wait(timeout=5) == 130  # contract §4: interrupted


def test_fault_flags_reach_the_server() -> None:
    proc = start("--error-rate", "1", "--seed", "3")
    try:
        urls = read_lines(proc)
        r = httpx.get(urls["keeptrusts"] + "/v1/webhooks", headers={"Authorization": "Bearer sandbox-token"})
        assert r.status_code == 503
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 130  # contract §4: interrupted


@pytest.mark.parametrize(
    ("flags", "rule"),
    [
        (["--variant", "ingate"], "expected one of"),
        (["--variant", "nope=x"], "expected one of"),
        (["--variant", "infraaudit=sdk"], "expected one of"),
        (["--error-rate", "2"], "expected a number from 0 to 1, got '2'"),
        (["--drop-rate", "x"], "expected a number from 0 to 1, got 'x'"),
        (["--latency-ms", "-5"], "expected a whole number of 0 or more, got '-5'"),
        (["--latency-ms", "²"], "expected a whole number of 0 or more, got '²'"),
        (["--port", "70000"], "expected a port from 0 to 65535, got '70000'"),
    ],
)
def test_bad_flags_are_usage_errors_that_say_the_rule(flags: list[str], rule: str) -> None:
    proc = start(*flags)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 1 and "usage" in err and rule in err  # bad input is 1 (contract §4)


def test_a_busy_port_is_one_clear_error(sandbox: object) -> None:
    import argparse

    from reconciler.commands.sandbox import run
    from reconciler.core.errors import ReconcilerError
    from reconciler.sandbox import Sandbox

    assert isinstance(sandbox, Sandbox)
    args = argparse.Namespace(
        host="127.0.0.1",
        port=sandbox.port,
        token="t",
        variant=[],
        latency_ms=0,
        error_rate=0.0,
        rate_limit_every=0,
        commit_then_fail_rate=0.0,
        drop_rate=0.0,
        seed=0,
        no_encrata_rate_limit=False,
        keyring=False,
        env_file=None,
    )
    with pytest.raises(ReconcilerError, match="cannot listen"):
        run(args)


# -- --keyring and --env-file: a playground that stays up (issue 19) ------------------------------------


def test_keyring_flag_serves_a_private_secret_service_and_prints_its_exports(tmp_path: Path) -> None:
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "secret-tool"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} not found: install gnome-keyring libsecret-tools dbus")
    env_file = tmp_path / "session.env"
    env_file.write_text("export SANDBOX_URL=http://stale.example\n")  # an earlier run's: never read again
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # no D-Bus session, no desktop keyring
    proc = start("--keyring", "--env-file", str(env_file), "--token", "t0k", env=clean)
    try:
        urls = read_lines(proc)  # the five SPEC lines come first, unchanged
        assert proc.stdout is not None
        exports = [proc.stdout.readline().rstrip("\n") for _ in range(4)]
        names = [line.split("=", 1)[0] for line in exports]
        expected = ["SANDBOX_URL", "SANDBOX_TOKEN", "DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND"]
        assert names == [f"export {name}" for name in expected]
        assert exports[0] == f"export SANDBOX_URL={urls['ingate'].removesuffix('/ingate')}"
        assert exports[1] == "export SANDBOX_TOKEN=t0k"
        for _ in range(50):  # the stale one is removed at start; the new one written after the lines above
            if env_file.exists():
                break
            time.sleep(0.1)
        assert env_file.read_text() == "\n".join(exports) + "\n"

        shell = f". {shlex.quote(str(env_file))}; printf s3cr3t-value | secret-tool store --label=t service s user u"
        shell += "; secret-tool lookup service s user u"
        stored = subprocess.run(["sh", "-c", shell], env=clean, capture_output=True, text=True, timeout=30)
        assert (stored.returncode, stored.stdout) == (0, "s3cr3t-value"), stored.stderr
        bus = exports[2].split("unix:path=", 1)[1].split(",", 1)[0]
        assert Path(bus).exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 130
    assert not env_file.exists()  # its bus is gone: the file would point a shell at nothing
    assert not Path(bus).exists()  # the keyring and its D-Bus stopped with the sandbox


def test_keyring_flag_without_the_daemons_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    proc = start("--keyring", env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)})
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and out == ""
    assert "sandbox --keyring: dbus-daemon, gnome-keyring-daemon not found: install the packages" in err
    assert "Traceback" not in err
