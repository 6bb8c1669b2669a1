"""Everything the tool prints or writes goes through here, and so through the redactor; what reaches a
terminal, a log or stderr also through the control-character net (neutral.terminal)."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from reconciler.core.errors import ReconcilerError
from reconciler.core.neutral import terminal
from reconciler.core.redact import scrub
from reconciler.runtime import files

_quiet = False

# A progress line appears only for work that takes longer than this, so quick runs stay silent.
PROGRESS_DELAY = 0.5
_PROGRESS_TICK = 0.1
_SPINNER = "|/-\\"


def configure(*, quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def quiet() -> bool:
    """Whether --quiet is in force: only results are printed."""
    return _quiet


def emit(text: str, *, stream: TextIO | None = None, always: bool = False) -> None:
    """Print a report. `always` marks output that is the command's product (json, markdown, import)."""
    if _quiet and not always:
        return
    out = stream or sys.stdout
    out.write(terminal(scrub(text if text.endswith("\n") else text + "\n")))
    out.flush()


def error(text: str) -> None:
    sys.stderr.write(terminal(scrub(text.rstrip("\n") + "\n")))
    sys.stderr.flush()


def write_file(path: str, text: str) -> None:
    """Write `text` to `path` whole or not at all, safely (reconciler.runtime.files); a path that cannot be written
    is one clear error, and leaves nothing behind."""
    if os.path.isdir(path):
        raise ReconcilerError(f"cannot write {path}: it is a directory")
    try:
        files.write_atomic(path, scrub(text).encode("utf-8"))
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {exc.strerror or exc}") from None


class TerminalFilter(logging.Filter):
    """Log records pass the same control-character net as the rest of stderr (after redact.ScrubFilter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = terminal(record.getMessage())
        record.args = ()
        return True


def colour_enabled(no_colour_flag: bool, stream: TextIO | None = None) -> bool:
    if no_colour_flag or "NO_COLOR" in os.environ:
        return False
    return (stream or sys.stdout).isatty()


@contextlib.contextmanager
def progress(label: str) -> Iterator[None]:
    """A spinner with elapsed seconds on stderr while the block runs, for a person at a terminal only:
    never in a pipeline (stderr not a TTY) or with --quiet, and not at all for work under PROGRESS_DELAY."""
    stream = sys.stderr
    if _quiet or not stream.isatty():
        yield
        return
    done = threading.Event()
    shown = threading.Event()

    def spin() -> None:
        start = time.monotonic()
        if done.wait(PROGRESS_DELAY):
            return
        for frame in itertools.cycle(_SPINNER):
            stream.write(f"\r{frame} {terminal(scrub(label))} {time.monotonic() - start:.0f}s ")
            stream.flush()
            shown.set()
            if done.wait(_PROGRESS_TICK):
                return

    worker = threading.Thread(target=spin, name="progress", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()
        if shown.is_set():
            stream.write("\r\033[K")  # erase the line, so the report starts clean
            stream.flush()
