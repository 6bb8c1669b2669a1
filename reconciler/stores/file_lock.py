"""An org's lock for the keyring store (contract §5.1): an OS file lock, since a keyring has no compare-and-set.

One file per store service and org under `$XDG_RUNTIME_DIR/webhook-reconciler/locks` (else the state
directory). `flock` belongs to the open file, so the OS releases it when the holder's process ends, however
it ends: a run killed with SIGKILL never blocks the next one. The file names its holder while held. Files are
emptied, never deleted: deleting a lock file while another run waits on it would let two runs hold "the" lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from urllib.parse import quote

from reconciler.core.errors import SecretStoreError
from reconciler.runtime.locking import Attempt, Holder


def lock_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "webhook-reconciler" / "locks"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "webhook-reconciler" / "locks"


class FileLock:
    renews = False

    def __init__(self, service: str, org: str, me: Holder) -> None:
        # quote(): a service name may hold `/`; org names cannot (contract §2's pattern).
        self.path = lock_dir() / quote(service, safe="") / f"{org}.lock"
        self.me = me
        self._fd: int | None = None

    def try_acquire(self) -> Attempt:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            return Attempt(False, holder)
        except OSError as exc:
            os.close(fd)
            raise SecretStoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        previous = _holder(fd)  # left behind by a run that ended without releasing (killed)
        try:
            _write(fd, json.dumps(self.me.fields(), sort_keys=True))
        except OSError as exc:
            os.close(fd)  # closing releases the flock
            raise SecretStoreError(f"cannot write the lock {self.path}: {exc.strerror or exc}") from None
        self._fd = fd
        if previous is not None and previous.run != self.me.run:
            return Attempt(True, previous, "its process has ended")
        return Attempt(True)

    def renew(self) -> bool:
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            _write(self._fd, "")
        os.close(self._fd)  # releases the flock
        self._fd = None

    def holder(self) -> Holder | None:
        if not self.path.exists():
            return None
        fd = self._open()
        try:
            return _holder(fd)
        finally:
            os.close(fd)

    def force_release(self) -> None:
        """Empty a lock file its holder left behind. A held flock belongs to a live process on this host, and
        nothing but that process ending can release it: say so rather than pretend."""
        fd = self._open()
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd)
                who = f" (pid {holder.pid})" if holder else ""
                raise SecretStoreError(
                    f"the lock {self.path} is held by a running process on this host{who}; the system releases it "
                    "when that process ends: stop that process instead"
                ) from None
            _write(fd, "")
        finally:
            os.close(fd)

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise SecretStoreError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from None


def _write(fd: int, text: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8"), 0)


def _holder(fd: int) -> Holder | None:
    """The holder a lock file names; None when it is empty or not ours to read."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
        return Holder.from_fields(data) if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None
