"""Work over many orgs on a thread pool, ending cleanly on Ctrl-C and SIGTERM."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from reconciler.runtime import interrupt

T = TypeVar("T")
R = TypeVar("R")

# After Ctrl-C or SIGTERM, the seconds running work gets to end its current step (a change whose answer is
# slow to come) before the run ends without it: contract §7 gives the whole run 5 seconds. A change normally
# takes well under a second; the margin is for a busy machine, where a store write alone can take seconds.
INTERRUPT_GRACE = 4.0


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T], parallelism: int, *, stop: threading.Event | None = None
) -> list[R]:
    """fn over items on a thread pool, results in input order.

    Always on worker threads, even one at a time: Ctrl-C then lands in the waiting main thread, never
    between a provider's answer and the store write. On Ctrl-C nothing new starts, `stop` is set so
    running work can end after its current step (reads end at once: see providers/bounds.py), and the
    KeyboardInterrupt is re-raised once it has, or once INTERRUPT_GRACE has passed: a worker still
    waiting then is left behind, and ends with the process."""
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(items))))
    futures = [pool.submit(fn, item) for item in items]
    interrupted = False
    try:
        return [future.result() for future in futures]
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        if interrupted:
            interrupt.interrupt()  # also when the signal handler did not run first (a test's KeyboardInterrupt)
        if stop is not None:
            stop.set()
        for future in futures:
            future.cancel()
        if interrupted:
            wait(futures, timeout=INTERRUPT_GRACE)
        raise
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
