"""`--parallelism` slots that a thread gives back while it only waits (contract §7.1).

An org that waits for its own rate limit has nothing to send: holding its slot meanwhile would leave another
org, with budget to spare, idle. A worker takes a slot with `holding`; a wait inside it (the rate limiter's,
a 429's Retry-After) runs under `released`, which gives the slot back and takes one again before going on."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Collection, Iterator
from typing import Any, TypeVar, cast

T = TypeVar("T")

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


def releasing(inner: T, methods: Collection[str]) -> T:
    """`inner`, its `methods` run under `released`: e.g. a secret store's I/O, which sends no API request."""
    return cast(T, _Releasing(inner, frozenset(methods)))


class _Releasing:
    def __init__(self, inner: object, methods: frozenset[str]) -> None:
        self._inner = inner
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self._methods:
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            with released():
                return attr(*args, **kwargs)

        return call
