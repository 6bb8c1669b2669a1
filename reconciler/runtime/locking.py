"""One writer per organization (contract §5.1): who holds an org's lock, waiting for it, taking over stale ones.

A store provides the lock itself (`SecretStore.org_lock`): a check-and-set record in Vault, an OS file lock
beside a keyring. This module holds what both share: the holder's description, the stale rules, the wait.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from reconciler.core.errors import ReconcilerError

log = logging.getLogger("reconciler.lock")

# Why 5 minutes: two merges close together are the common race, and the second run should wait for the
# first rather than fail; one org's apply takes seconds, up to a few minutes under Encrata's 30 requests a
# minute. A holder stuck for longer is worth a failure that names it, well inside a CI job's own timeout.
DEFAULT_TIMEOUT = 300.0
# A lock that must be renewed (Vault) lapses this long after its holder stopped renewing it (killed, or cut
# off); holders renew it every third of that, so two missed renewals still leave it held.
LEASE = 60.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """`30s`, `5m`, `1h`, `250ms`, or plain seconds -> seconds."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h, or 0 to fail at once)")
    return float(found[1]) * _UNITS[found[2] or "s"]


def ci_run_url(env: Mapping[str, str]) -> str | None:
    """The URL of the CI run this process belongs to, where the CI system gives one."""
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    for name in ("CI_JOB_URL", "BUILDKITE_BUILD_URL", "CIRCLE_BUILD_URL", "BUILD_URL"):
        if env.get(name):
            return env[name]
    return None


# Another run's lock record is shown in messages: its control characters are shown escaped, never sent raw.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F)}


def _stamp(at: float, timespec: str = "seconds") -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


@dataclass(frozen=True)
class Holder:
    """Who holds a lock. `run` tells two runs of one process apart (in-process callers, tests)."""

    host: str
    pid: int
    started_at: str  # ISO-8601 UTC
    run: str
    ci_url: str | None = None
    expires_at: float | None = None  # epoch seconds; only locks that must be renewed (Vault) have one

    @classmethod
    def this_run(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), _stamp(time.time()), secrets.token_hex(8), ci_run_url(os.environ))

    def fields(self) -> dict[str, object]:
        data: dict[str, object] = {"host": self.host, "pid": self.pid, "started_at": self.started_at, "run": self.run}
        if self.ci_url:
            data["ci_url"] = self.ci_url
        if self.expires_at is not None:
            data["expires_at"] = _stamp(self.expires_at, "milliseconds")
        return data

    @classmethod
    def from_fields(cls, data: Mapping[str, object]) -> Holder:
        """ValueError when `data` is not a holder this tool wrote."""
        host, pid, started, run = (data.get(k) for k in ("host", "pid", "started_at", "run"))
        if not (isinstance(host, str) and isinstance(pid, int) and isinstance(started, str) and isinstance(run, str)):
            raise ValueError("not a lock holder record")
        ci_url, expires = data.get("ci_url"), data.get("expires_at")
        expires_at = datetime.fromisoformat(expires).timestamp() if isinstance(expires, str) else None
        return cls(host, pid, started, run, ci_url if isinstance(ci_url, str) else None, expires_at)

    def describe(self) -> str:
        """For messages. Another run wrote these fields: control characters are escaped."""
        text = f"host {self.host}, pid {self.pid}, started {self.started_at}"
        if self.ci_url:
            text += f", {self.ci_url}"
        return text.encode("ascii", "backslashreplace").decode("ascii").translate(_CONTROLS)

    def gone(self, now: float) -> str | None:
        """Why this holder no longer holds its lock (its process ended; its expiry passed), or None."""
        if self.host == socket.gethostname() and not process_alive(self.pid):
            return "its process has ended"
        if self.expires_at is not None and self.expires_at < now:
            return f"it expired at {_stamp(self.expires_at)}"
        return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(frozen=True)
class Attempt:
    """One try at a lock. Acquired: `holder` is the stale holder taken over, if any. Not acquired: the
    holder in the way (None when its record cannot be read)."""

    acquired: bool
    holder: Holder | None = None
    why_stale: str = ""


class OrgLock(Protocol):
    """One org's lock in one store, for one run (`me`)."""

    renews: bool  # True: it expires unless `renew` is called (Vault); False: the OS holds it (file locks)

    def try_acquire(self) -> Attempt: ...

    def renew(self) -> bool:
        """Push the expiry forward; False when the lock is no longer this run's (taken over)."""
        ...

    def release(self) -> None:
        """Give the lock up if this run holds it; never raises."""
        ...

    def holder(self) -> Holder | None:
        """Who holds the lock now (for `unlock`); None when nobody does."""
        ...

    def force_release(self) -> None:
        """Remove the lock whoever holds it (`unlock`)."""
        ...


class OrgLocked(ReconcilerError):
    """The org stayed locked by another run for the whole --lock-timeout."""

    def __init__(self, org: str, holder: Holder | None, timeout: float) -> None:
        who = holder.describe() if holder else "whose lock record cannot be read"
        super().__init__(
            f"locked by another run ({who}); waited {timeout:g} s (--lock-timeout), nothing changed in it. If that "
            f"run is gone: reconciler unlock PATH... {org}"
        )


def acquire(lock: OrgLock, org: str, deadline: float, timeout: float, stop: threading.Event) -> None:
    """Take `lock`, waiting until `deadline` (time.monotonic()); raise OrgLocked past it (`timeout` is the
    --lock-timeout it came from, for the message), KeyboardInterrupt when `stop` is set."""
    delay, told = 0.05, False
    while True:
        attempt = lock.try_acquire()
        if attempt.acquired:
            took_over(org, attempt)
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise OrgLocked(org, attempt.holder, timeout)
        if not told:
            who = attempt.holder.describe() if attempt.holder else "another run"
            log.warning("%s: waiting up to %g s for the lock held by %s", org, left, who)
            told = True
        if stop.wait(min(delay, left)):
            raise KeyboardInterrupt
        delay = min(delay * 2, 1.0)


def took_over(org: str, attempt: Attempt) -> None:
    if attempt.holder is not None:
        log.warning("%s: took over the lock of %s: %s", org, attempt.holder.describe(), attempt.why_stale)


class Renewer:
    """Renews the held locks that expire, every `interval` seconds, until closed; a lock it finds taken
    over is marked lost, so its org starts no new change."""

    def __init__(self) -> None:
        self._held: dict[str, OrgLock] = {}
        self.lost: set[str] = set()
        self._renewed: dict[str, float] = {}  # org -> when its lock was last written (monotonic)
        self._closed = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, org: str, lock: OrgLock) -> None:
        with self._guard:
            self._held[org] = lock
            self._renewed[org] = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lock-renewer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed.wait(LEASE / 3):
            with self._guard:
                held = list(self._held.items())
            for org, lock in held:
                try:
                    kept = lock.renew()
                except ReconcilerError as exc:  # a passing store failure: the expiry still leaves time
                    log.warning("%s: could not renew the lock: %s", org, exc)
                    continue
                with self._guard:
                    if kept:
                        self._renewed[org] = time.monotonic()
                        continue
                    self.lost.add(org)
                    self._held.pop(org, None)
                log.error("%s: the lock was taken over by another run; no new change starts here", org)

    def may_be_lost(self, org: str) -> bool:
        """Taken over, or not renewed for a whole lease (the process stood still, or the store was out of
        reach): its expiry has passed, so another run may hold it now, before the next renewal would say so."""
        with self._guard:
            renewed = self._renewed.get(org)
            return org in self.lost or (renewed is not None and time.monotonic() - renewed > LEASE)

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
