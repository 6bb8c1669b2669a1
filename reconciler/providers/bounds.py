"""Bounds on every API exchange: a total deadline, a size cap on the answer, and an early end on Ctrl-C.

httpx bounds only the gap between two reads, so a server that trickles its answer a byte at a time (headers
included) holds a request forever, and it reads a body of any length. Here the network streams under httpx's
connection pools wait in short slices, looking between them at the request's deadline and for an interrupt;
`read_body` stops an answer past its cap. Both fail the request as a transport error, so the retry rules
apply as to a lost connection (a write whose answer never came is of unknown outcome).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from reconciler.runtime import interrupt

MAX_BODY_BYTES = 16 * 1024 * 1024  # an answer larger than this is refused (contract §7)
REQUEST_DEADLINE = 60.0  # seconds from sending a request to the last byte of its answer
_SLICE = 0.2  # seconds a blocked read waits before it looks at the deadline and for an interrupt again


class AnswerRefused(httpx.ReadError):
    """The answer cannot be taken: too large, or in an encoding that was not asked for."""


@dataclass(frozen=True)
class Limits:
    deadline: float  # time.monotonic() by which the exchange must be over
    seconds: float  # the deadline as given, for messages
    interruptible: bool  # a read ends at once on an interrupt; a write runs on (the change in progress)

    def remaining(self) -> float:
        """Seconds left; raises once the deadline or (when interruptible) an interrupt has come."""
        if self.interruptible and interrupt.interrupted():
            raise httpcore.ReadError("interrupted")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout(f"no complete answer within the {self.seconds:g} s deadline")
        return left


_current = threading.local()  # each request runs in one thread: its limits are that thread's


@contextlib.contextmanager
def limited(seconds: float, *, interruptible: bool) -> Iterator[None]:
    """Bound every network read and write of this thread for the block's duration."""
    previous = getattr(_current, "limits", None)
    _current.limits = Limits(time.monotonic() + seconds, seconds, interruptible)
    try:
        yield
    finally:
        _current.limits = previous


def _limits() -> Limits | None:
    limits: Limits | None = getattr(_current, "limits", None)
    return limits


def _capped(timeout: float | None, limits: Limits | None) -> float | None:
    if limits is None:
        return timeout
    left = limits.remaining()
    return left if timeout is None else min(timeout, left)


def read_body(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body of a streamed `response`, refused past `limit` bytes without reading further."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # Asked for identity: a compressed answer could inflate a thousandfold before any cap could see it.
        raise AnswerRefused(f"the answer is {encoding}-encoded, which was not asked for")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerRefused(_too_large(limit))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():  # no decoding (identity only), so as received
        size += len(chunk)
        if size > limit:
            raise AnswerRefused(_too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"the answer is larger than {limit // (1024 * 1024)} MiB"


class _Stream(httpcore.NetworkStream):
    """A connection whose reads wait in slices, so that the deadline and interrupts are seen while they wait."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        limits = _limits()
        if limits is None:
            return self._inner.read(max_bytes, timeout)
        gap_ends = None if timeout is None else time.monotonic() + timeout  # httpx's own read timeout
        while True:
            wait = min(_SLICE, limits.remaining())
            if gap_ends is not None:
                gap = gap_ends - time.monotonic()
                if gap <= 0:
                    raise httpcore.ReadTimeout(f"no data for {timeout:g} s")
                wait = min(wait, gap)
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                continue  # only this slice ended: the socket is intact, wait again

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, _limits()))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _capped(timeout, _limits())))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _capped(timeout, _limits()), local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _capped(timeout, _limits()), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client) -> httpx.Client:
    """Route every connection `client` opens (direct, or through a proxy from the environment) through
    the bounded streams. httpx offers no public way to choose httpcore's network backend, so it is set on
    each pool; if a new httpx moves it, this fails at once (and the tests with it), never silently."""
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            raise RuntimeError(f"cannot bound the requests of {type(transport).__name__}: httpx internals moved")
        pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    return client
