"""The HTTP layer every adapter shares: auth, read-only guard, rate limit, retries, error mapping.

Adapters call `ApiClient.request()` and only translate JSON; nothing here knows a provider's shapes.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reconciler.core.errors import ProviderError, ReadOnlyViolation
from reconciler.core.redact import hide, mask_secret_like, mask_userinfo
from reconciler.core.secret import Secret
from reconciler.providers import bounds
from reconciler.runtime import interrupt

log = logging.getLogger("reconciler.http")

USER_AGENT = "webhook-reconciler/0.1"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
MAX_DETAIL = 300  # characters of a vendor's error message kept in ours

# Transport errors raised before any byte of the request left: repeating them can never duplicate a write.
_NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def default_timeout(read: float = 30.0) -> httpx.Timeout:
    return httpx.Timeout(read, connect=5.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter exponential backoff, bounded in attempts and in total time slept."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)  # uniform in [0, 1)

    def backoff(self, attempt: int) -> float:
        """The jittered delay after failed attempt number `attempt` (1-based)."""
        return self.jitter() * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


class RateLimiter:
    """At most `per_minute` requests in any window of `window_s` seconds: a documented "30 requests/minute"
    is counted by the server over a sliding minute, so a token bucket (a full burst, then refills) would
    send up to twice the limit in the first minute and meet 429s with long waits. The window carries a
    margin, because the server sees each request a little later than it left, and not always equally late.

    contract §7.1: the documented limit is only the default. Once the API announces its budget
    (`X-RateLimit-Limit`, `-Remaining`, `-Reset`: see `announce`), its figures rule, higher or lower: until the
    announced reset, up to `Remaining` more requests go at once and the next waits for the reset; an announced
    `Limit` replaces the documented one in the window. `per_minute=None`: no documented limit, only announced
    ones. Requests in flight when an announcement arrives are not in its count, so a burst can overshoot by
    at most the requests in flight; a 429 and its Retry-After take care of that.

    Thread-safe: callers reserve a send time under the lock and sleep outside it, so waiting threads are
    served in arrival order. The sleep gives back the caller's `--parallelism` slot (reconciler/runtime/slots.py)."""

    def __init__(
        self,
        per_minute: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_s: float = 61.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if per_minute is not None and per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = per_minute
        self.window_s = window_s
        self._reserved: deque[float] = deque()  # send times handed out, ascending (some may lie ahead)
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining = 0  # the announced budget left ...
        self._until: float | None = None  # ... until this time (the clock's), when the API resets it

    def acquire(self) -> float:
        """Wait for a send time that keeps within the limit; returns the time slept."""
        with self._lock:
            now = self._clock()
            while self._reserved and self._reserved[0] <= now - self.window_s:
                self._reserved.popleft()
            start = now
            if self._until is not None and now < self._until:  # the API's own count rules until its reset
                if self._remaining > 0:
                    self._remaining -= 1
                else:
                    start = self._until
            elif self.capacity is not None and len(self._reserved) >= self.capacity:
                start = max(now, self._reserved[-self.capacity] + self.window_s)
            self._reserved.append(start)
            wait = start - now
        if wait > 0:
            from reconciler.runtime import slots

            with slots.released():
                self._sleep(wait)
        return wait

    def announce(self, headers: Mapping[str, str]) -> None:
        """Take the budget an API announced in its `X-RateLimit-*` headers (absent or unreadable: no change).
        `Reset` is read as a Unix time when it is one (GitHub's form, and the sandbox's), else as seconds."""
        limit = _count(headers.get("x-ratelimit-limit"))
        remaining = _count(headers.get("x-ratelimit-remaining"))
        reset = _count(headers.get("x-ratelimit-reset"))
        with self._lock:
            if limit is not None and limit >= 1:
                self.capacity = limit
            if remaining is not None and reset is not None:
                seconds = reset - self._wall_clock() if reset > _EPOCH_SECONDS else reset
                self._remaining = remaining
                self._until = self._clock() + max(0.0, min(seconds, _MAX_RESET_S))


_EPOCH_SECONDS = 1_000_000_000  # a Reset larger than this is a Unix time, not a number of seconds
_MAX_RESET_S = 3600.0  # a Reset further away than an hour is not believed: never wait on a garbled header


def _count(value: str | None) -> int | None:
    """A header's whole number, or None (absent, or not a plain non-negative number)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    body: Any  # the parsed JSON body, or None when empty or not JSON


class ApiClient:
    """One org's account: a shared `httpx.Client` bound to a base URL and a token."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        token: Secret,
        *,
        read_only: bool,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        deadline: float = bounds.REQUEST_DEADLINE,
        max_body: int = bounds.MAX_BODY_BYTES,
        provider: str = "api",
        forbidden_hint: str = "the required role",
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self.read_only = read_only
        self._limiter = limiter
        self._retry = retry or RetryPolicy()
        self._timeout = timeout or default_timeout()
        self._deadline = deadline
        self._max_body = max_body
        self.provider = provider
        self._forbidden_hint = forbidden_hint
        self.writes_done = 0  # writes answered 2xx: see Provider.writes_done

    def __repr__(self) -> str:
        return f"ApiClient({self.provider}, read_only={self.read_only})"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> ApiResponse:
        """Send one API call (retrying where safe) and return its 2xx response (or a DELETE's 404).

        Raises ReadOnlyViolation for a write in read-only mode, before anything is sent; ProviderError
        otherwise, with `outcome_unknown=True` when a write may or may not have taken effect."""
        method = method.upper()
        if self.read_only and method != "GET":
            raise ReadOnlyViolation(f"{self.provider}: refused to send {method} {path} in read-only mode")
        maybe_applied = False  # an earlier attempt of this write may have taken effect
        waited = 0.0
        for attempt in range(1, self._retry.max_attempts + 1):
            outcome = self._attempt(method, path, json, params, attempt)
            if isinstance(outcome, ApiResponse):
                if method != "GET" and outcome.status < 300:
                    self.writes_done += 1
                return outcome
            error, delay = outcome
            maybe_applied = maybe_applied or error.outcome_unknown
            error.outcome_unknown = maybe_applied
            if delay is None or attempt == self._retry.max_attempts or interrupt.interrupted():
                raise error
            if waited + delay > self._retry.max_total_wait:
                raise ProviderError(
                    f"{error}; gave up after {attempt} attempt(s): the next retry would wait {delay:.0f} s, "
                    f"past the {self._retry.max_total_wait:.0f} s budget",
                    error.status,
                    outcome_unknown=maybe_applied,
                )
            waited += delay
            from reconciler.runtime import slots

            with slots.released():  # a wait, not work: another org may use the slot meanwhile
                self._retry.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(
        self, method: str, path: str, json: Any, params: Mapping[str, str | int] | None, attempt: int
    ) -> ApiResponse | tuple[ProviderError, float | None]:
        """One try: the response, or the error with the wait before a retry (None: never retry it)."""
        idempotent = method in IDEMPOTENT
        try:
            response = self._send(method, path, json, params, attempt)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            # Named without the URL itself: a base URL may carry credentials.
            raise ProviderError(f"{self.provider} {method} {path}: the base URL is not a valid http(s) URL") from None
        except _NOT_SENT as exc:
            return self._transport_error(method, path, exc, unknown=False), self._retry.backoff(attempt)
        except bounds.AnswerRefused as exc:  # the same answer again would be refused again: no retry
            return self._transport_error(method, path, exc, unknown=method != "GET"), None
        except httpx.TransportError as exc:
            # Sent, then lost: a non-idempotent write may have happened and must not be repeated blindly.
            error = self._transport_error(method, path, exc, unknown=method != "GET")
            return error, self._retry.backoff(attempt) if idempotent else None
        status = response.status_code
        if 200 <= status < 300 or (status == 404 and method == "DELETE"):
            return ApiResponse(status, response.headers, _parse_body(response))
        error = self._status_error(method, path, response, json)
        if status == 429:  # refused before processing: safe to repeat any method
            advised = _server_delay(response)
            return error, self._retry.backoff(attempt) if advised is None else advised
        if status >= 500 and idempotent:
            return error, self._retry.backoff(attempt)
        return error, None

    def _send(
        self, method: str, path: str, json: Any, params: Mapping[str, str | int] | None, attempt: int
    ) -> httpx.Response:
        if self._limiter is not None:
            self._limiter.acquire()
        headers = {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Accept": "application/json",
            "Accept-Encoding": "identity",  # see bounds.read_body
            "User-Agent": USER_AGENT,
        }
        request = self._http.build_request(
            method, self._base_url + path, json=json, params=params, headers=headers, timeout=self._timeout
        )
        started = time.monotonic()
        # A read ends at once on Ctrl-C; a write runs on, so the change in progress can finish (contract §7).
        try:
            with bounds.limited(self._deadline, interruptible=method == "GET"):
                streamed = self._http.send(request, stream=True)
                try:
                    body = bounds.read_body(streamed, self._max_body)
                finally:
                    streamed.close()
        except httpx.TransportError as exc:
            self._log(method, path, type(exc).__name__, started, attempt)
            raise
        if self._limiter is not None:
            self._limiter.announce(streamed.headers)
        self._log(method, path, streamed.status_code, started, attempt)
        # The status's standard phrase, never the server's own text.
        return httpx.Response(streamed.status_code, headers=streamed.headers, content=body, request=request)

    @staticmethod
    def _log(method: str, path: str, outcome: int | str, started: float, attempt: int) -> None:
        if log.isEnabledFor(logging.DEBUG):  # every request passes here: skip the arithmetic when off
            elapsed_ms = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %s in %.0f ms (attempt %d)", method, path, outcome, elapsed_ms, attempt)

    def _transport_error(self, method: str, path: str, exc: Exception, *, unknown: bool) -> ProviderError:
        detail = self._redact(str(exc), None)
        if isinstance(exc, bounds.AnswerRefused):
            what = f"answer refused ({detail})"
        else:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
            what = f"{kind} ({type(exc).__name__}: {detail})"
        suffix = "; the write may or may not have taken effect" if unknown else ""
        return ProviderError(f"{self.provider} {method} {path}: {what}{suffix}", None, outcome_unknown=unknown)

    def _status_error(self, method: str, path: str, response: httpx.Response, sent: Any) -> ProviderError:
        status = response.status_code
        vendor = self._redact(vendor_message(_parse_body(response)) or "", sent)
        if status == 401:
            reason = "the API token was rejected"
        elif status == 403:
            reason = f"the API token lacks the permission needed ({self._forbidden_hint})"
        elif status == 429:
            reason = "rate limited"
        else:
            reason = response.reason_phrase or "request failed"
        if vendor and vendor.lower() != reason.lower():
            reason = f"{reason}: {vendor}"
        unknown = status >= 500 and method != "GET"
        if unknown:
            reason += "; the write may or may not have taken effect"
        message = f"{self.provider} {method} {path} -> {status}: {reason}"
        return ProviderError(message, status, outcome_unknown=unknown)

    def _redact(self, text: str, sent: Any) -> str:
        """Vendors echo input back ("invalid url ..."): mask what we sent, the token and URL credentials."""
        text = hide(text, _strings(sent), min_length=4)
        text = hide(text, [self._token.reveal()])
        return mask_secret_like(mask_userinfo(text))[:MAX_DETAIL]


def vendor_message(body: Any) -> str | None:
    """The human message of any of the vendors' error shapes: `{"error": msg}`, `{"error", "code",
    "details"}`, `{"success": false, "error": msg}`, `{"message", "error", "statusCode"}`, or plain text."""
    if isinstance(body, str):
        return body.strip() or None
    if not isinstance(body, dict):
        return None
    message, error, details = body.get("message"), body.get("error"), body.get("details")
    if isinstance(error, dict):  # {"error": {"message": ...}}
        return vendor_message(error)
    parts: list[str] = []
    # Immuta's `error` is the status phrase ("Bad Request") and `message` the explanation: prefer message.
    for part in (message, error):
        if isinstance(part, str) and part.strip() and part.strip() not in parts:
            parts.append(part.strip())
    if parts and "statusCode" in body:
        parts = parts[:1]
    if isinstance(details, str) and details.strip():
        parts.append(details.strip())
    elif isinstance(details, (dict, list)) and details:
        parts.append(str(details))
    return " - ".join(parts) or None


def _parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text if response.status_code >= 400 else None


def _server_delay(response: httpx.Response) -> float | None:
    """The wait a 429 asks for: `Retry-After` (seconds or HTTP-date), else a JSON body `retryAfter`."""
    header = response.headers.get("Retry-After")
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    body = _parse_body(response)
    if isinstance(body, dict):
        value = body.get("retryAfter")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return max(0.0, float(value))
        if isinstance(value, str):
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
