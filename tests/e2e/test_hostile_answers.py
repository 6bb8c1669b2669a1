"""A provider API that answers like an attacker (issue 15): the real `reconciler` process, a hostile
server on loopback. SIGTERM or Ctrl-C during a request that never completes ends the run within 5 seconds
with exit 130 and no traceback; a create whose answer never completes is re-listed before it is repeated."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.providers import bounds
from reconciler.providers.ingate import PATH
from tests.e2e.world import TOKEN_ENV, World
from tests.fixtures.hostile_server import HostileServer, answer, endless, trickle

HANG_LIMIT = 30.0  # seconds before a child counts as hung: a safety net, never the bound under test
BOUND = 5.0  # contract §7: SIGTERM or Ctrl-C ends any run within 5 seconds


def manifest(world: World, server: HostileServer, orgs: int = 1) -> Path:
    declared = [
        {
            **world.org(f"hostile-{i}", "ingate", [{"name": "h", "url": f"https://hooks.acme.example/{i}"}]),
            "base_url": server.url + f"/o{i}",
        }
        for i in range(orgs)
    ]
    return world.write(declared)


def start(world: World, *args: str | Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **world.keyring.env,
        TOKEN_ENV: "sandbox-token",
        "XDG_STATE_HOME": str(world.tmp / "state"),
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + HANG_LIMIT
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"the child ended first: {child.communicate()}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("the child never reached the request to interrupt")
        time.sleep(0.01)


def interrupt(child: subprocess.Popen[str], signum: int) -> tuple[int, str, float]:
    """Send `signum`; the exit code, stderr and the seconds until the process ended."""
    sent = time.monotonic()
    child.send_signal(signum)
    try:
        out, err = child.communicate(timeout=HANG_LIMIT)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError(f"still running {HANG_LIMIT} s after the signal") from None
    return child.returncode, out + err, time.monotonic() - sent


SIGNALS = pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])


@SIGNALS
def test_a_signal_during_a_trickled_list_ends_plan_within_5_seconds(
    world: World, hostile: HostileServer, signum: int
) -> None:
    for i in range(3):
        hostile.on("GET", f"/o{i}{PATH}", trickle(0.05))
    child = start(world, "plan", manifest(world, hostile, orgs=3))
    wait_for(lambda: len(hostile.requests) == 3, child)
    time.sleep(0.5)  # well inside the trickle
    code, text, elapsed = interrupt(child, signum)
    print(f"\nplan, {signal.Signals(signum).name} during 3 trickled lists: exit {code} after {elapsed:.2f} s")
    assert code == 130, text
    assert elapsed < BOUND
    assert "Traceback" not in text and "interrupted" in text


@SIGNALS
def test_a_signal_during_a_trickled_create_ends_apply_within_5_seconds(
    world: World, hostile: HostileServer, signum: int
) -> None:
    """The create is the change in progress: it gets its grace to finish, then the run ends anyway, and
    the report says the change may have taken effect."""
    hostile.on("GET", f"/o0{PATH}", answer(200, []))
    hostile.on("POST", f"/o0{PATH}", trickle(0.05))
    child = start(world, "apply", manifest(world, hostile), "--auto-approve")
    wait_for(lambda: any(method == "POST" for method, _, _ in hostile.requests), child)
    time.sleep(0.5)
    code, text, elapsed = interrupt(child, signum)
    print(f"\napply, {signal.Signals(signum).name} during a trickled create: exit {code} after {elapsed:.2f} s")
    assert code == 130, text
    assert elapsed < BOUND
    assert "Traceback" not in text
    assert "hostile-0/h: interrupted while under way; it may or may not have taken effect" in text, text
    assert "a failed change may have taken effect" in text and "no further change was started" in text


def test_a_create_that_trickles_past_the_deadline_is_re_listed_before_it_is_repeated(
    world: World, hostile: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first create's answer never completes: its outcome is unknown, so the org is listed again (the
    webhook is not there) before the create is sent a second time, which succeeds."""
    monkeypatch.setattr(bounds, "REQUEST_DEADLINE", 1.0)
    created: list[dict[str, object]] = []
    posts = [trickle(0.05)]

    def create(conn: socket.socket) -> None:
        if posts:
            posts.pop()(conn)
            return
        hook = {"id": "w1", "url": "https://hooks.acme.example/0", "events": [], "active": True,
                "secret": "whsec_" + "k" * 32}
        created.append({k: v for k, v in hook.items() if k != "secret"})
        answer(201, hook)(conn)

    def listing(conn: socket.socket) -> None:
        answer(200, created)(conn)

    hostile.on("GET", f"/o0{PATH}", listing).on("POST", f"/o0{PATH}", create)
    result = world.run("apply", manifest(world, hostile), "--auto-approve")
    assert result.code == 0, result.text
    assert [method for method, _, _ in hostile.requests] == ["GET", "POST", "GET", "POST", "GET"]
    assert world.stored("hostile-0", "h") == "whsec_" + "k" * 32


def test_an_endless_list_answer_leaves_the_process_small(world: World, hostile: HostileServer) -> None:
    """The whole process, measured by the kernel: an answer that never ends is refused at 16 MiB, so the
    run stays small instead of growing by gigabytes."""
    hostile.on("GET", f"/o0{PATH}", endless())
    child = start(world, "plan", manifest(world, hostile))
    started = time.monotonic()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.stdout is not None and child.stderr is not None
    text = child.stdout.read() + child.stderr.read()
    peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
    print(f"\nplan against an endless answer: exit {child.returncode} after {elapsed:.2f} s, "
          f"peak RSS {peak_mib:.0f} MiB")
    assert child.returncode == 1, text
    assert "answer refused (the answer is larger than 16 MiB)" in text
    assert peak_mib < 200
    assert len(hostile.requests) == 1  # refused, not retried: the same answer would be refused again
