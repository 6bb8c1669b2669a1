"""`--parallelism` slots that a thread gives back while it only waits (contract §7.1).

An org that waits for its own rate limit has nothing to send: holding its slot meanwhile would leave another
org, with budget to spare, idle. A worker takes a slot with `holding`; a wait inside it (the rate limiter's,
a 429's Retry-After) runs under `released`, which gives the slot back and takes one again before going on."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_local = threading.local()


@contextlib.contextmanager
def holding(slots: threading.Semaphore) -> Iterator[None]:
    with slots:
        previous = getattr(_local, "slots", None)
        _local.slots = slots
        try:
            yield
        finally:
            _local.slots = previous


@contextlib.contextmanager
def released() -> Iterator[None]:
    """Around a wait: the calling thread's slot, if it holds one, is free for another org meanwhile."""
    slots: threading.Semaphore | None = getattr(_local, "slots", None)
    if slots is None:
        yield
        return
    slots.release()
    try:
        yield
    finally:
        slots.acquire()
