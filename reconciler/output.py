"""Everything the tool prints or writes goes through here, and so through the redactor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from reconciler.redact import scrub

_quiet = False


def configure(*, quiet: bool) -> None:
    global _quiet
    _quiet = quiet


def emit(text: str, *, stream: TextIO | None = None, always: bool = False) -> None:
    """Print a report. `always` marks output that is the command's product (json, markdown, import)."""
    if _quiet and not always:
        return
    out = stream or sys.stdout
    out.write(scrub(text if text.endswith("\n") else text + "\n"))
    out.flush()


def error(text: str) -> None:
    sys.stderr.write(scrub(text.rstrip("\n") + "\n"))
    sys.stderr.flush()


def write_file(path: str, text: str) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(scrub(text), encoding="utf-8")
    os.replace(tmp, target)  # a reader never sees half a plan


def colour_enabled(no_colour_flag: bool, stream: TextIO | None = None) -> bool:
    if no_colour_flag or "NO_COLOR" in os.environ:
        return False
    return (stream or sys.stdout).isatty()
