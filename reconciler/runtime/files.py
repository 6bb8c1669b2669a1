"""Writing files safely: whole or not at all, never through a planted symlink, keeping the target's mode.

Every file the tool writes goes through `write_atomic`: `-o FILE` of plan, drift and import, and the
recovery files that hold a secret the store refused (reconciler/engine/recovery.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path`, whole or not at all (a reader never sees half a file).

    The bytes go to a new file beside `path` whose name is random and which is created exclusively and
    without following symlinks (mkstemp: O_CREAT | O_EXCL | O_NOFOLLOW), so no name planted in advance is
    ever written through; it is then renamed over `path`, which replaces a symlink planted there instead of
    writing where it points. The file gets `mode` when given, else the mode of the regular file it
    replaces, else the usual mode of a new file (0666 less the umask). Raises OSError, leaving no
    temporary file behind."""
    target = os.fspath(path)
    folder = os.path.dirname(target) or "."
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode_for(target) if mode is None else mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync(folder)


def _mode_for(target: str) -> int:
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return 0o666 & ~_umask()
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode)
    return 0o666 & ~_umask()  # a symlink is replaced: the mode of what it points to is none of our business


def _umask() -> int:
    """The process's umask, read without changing it where the system tells (Linux), else set and reset."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    current = os.umask(0o022)
    os.umask(current)
    return current


def _sync(folder: str) -> None:
    """Make the rename durable: a recovery file holds a secret that exists nowhere else."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
