"""The run's interruption (Ctrl-C or SIGTERM), visible to every thread.

The signal reaches only the main thread; the worker threads that wait on an API learn of it here, so that a
read ends at once instead of when its server finishes answering (contract §7: the run ends within 5 seconds).
"""

from __future__ import annotations

import threading

_event = threading.Event()


def interrupt() -> None:
    """Mark the run as interrupted: reads under way end, nothing new is started."""
    _event.set()


def interrupted() -> bool:
    return _event.is_set()


def reset() -> None:
    """A new run (the CLI's `main` called again in one process, as the tests do) starts uninterrupted."""
    _event.clear()
