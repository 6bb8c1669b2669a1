"""Turns one HTTP request into one answer: provider and account from the path, then auth, rate
limits, faults, the route's handler and the provider's error shape."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from reconciler.sandbox.backend import Backend, RecordedRequest
from reconciler.sandbox.registry import SPECS
from reconciler.sandbox.wire import ApiError, ProviderSpec, Request, Response, Route

DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class Incoming:
    method: str
    path: str
    query: str
    authorization: str | None
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def json_reply(response: Response) -> Reply:
    if response.body is None:
        return Reply(response.status, response.headers, b"")
    body = json.dumps(response.body).encode()
    return Reply(response.status, (("Content-Type", "application/json"), *response.headers), body)


def locate(spec: ProviderSpec, rest: str) -> tuple[str, tuple[str, ...]] | None:
    """Split the path after `/<provider>` into (account, segments after the API root)."""
    root, start = spec.api_root, 0
    while start >= 0:
        end = start + len(root)
        if rest.startswith(root, start) and rest[end : end + 1] in ("", "/"):
            prefix = rest[:start]
            if spec.base_suffix and prefix.endswith(spec.base_suffix):
                prefix = prefix[: -len(spec.base_suffix)]
            account = unquote(prefix.strip("/")) or DEFAULT_ACCOUNT
            return account, tuple(unquote(s) for s in rest[end:].split("/") if s)
        start = rest.find("/", start + 1)
    return None


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def dispatch(backend: Backend, incoming: Incoming) -> Reply | None:
    """None means: close the connection without answering (the drop fault)."""
    name, _, rest = incoming.path[1:].partition("/")
    spec = SPECS.get(unquote(name))
    if spec is None:
        return json_reply(Response(404, {"error": f"no such provider; try one of: {', '.join(SPECS)}"}))
    located = locate(spec, "/" + rest)
    faults = backend.faults(spec.name)
    if faults.latency_ms:
        time.sleep(faults.latency_ms / 1000)  # outside the lock, so latency overlaps across requests
    with backend.lock:
        reply = _Exchange(backend, spec, incoming, located).run()
        backend.record(
            RecordedRequest(
                provider=spec.name,
                account=located[0] if located else "",
                method=incoming.method,
                path=incoming.path,
                query=incoming.query,
                status=reply.status if reply else 0,
            )
        )
    return reply


class _Exchange:
    """One request against one provider; runs under the backend lock."""

    def __init__(
        self, backend: Backend, spec: ProviderSpec, incoming: Incoming, located: tuple[str, tuple[str, ...]] | None
    ) -> None:
        self.backend, self.spec, self.incoming, self.located = backend, spec, incoming, located
        self.variant = backend.variants.get(spec.name, "reference")
        self.dice = backend.dice[spec.name]
        self.token = bearer(incoming.authorization)
        self.limit = spec.rate_limit.limit(self.dice.faults) if spec.rate_limit else None
        self.headers: tuple[tuple[str, str], ...] = ()  # rate-limit headers, on every answer

    def run(self) -> Reply | None:
        refused = self._admit()
        if refused is not None:
            return refused
        if self.located is None:
            return self.error(ApiError(404, "not found"))
        account, segments = self.located
        route, params, allowed = _match(self.spec, self.incoming.method, segments)
        if route is None:
            if allowed:
                return self.error(ApiError(405, "method not allowed"), ("Allow", ", ".join(allowed)))
            return self.error(ApiError(404, "not found"))
        if (route.write or self.spec.role_for_reads) and self.backend.tokens.get(self.token) != "admin":
            return self.error(ApiError(403, self.spec.forbidden_message))
        try:
            request = Request(self.incoming.method, params, _query(self.incoming.query), _json(self.incoming.body))
            response = route.handler(self.backend.context(self.spec.name, account), request)
        except ApiError as err:
            return self.error(err)
        # Faults that strike after the change was applied: the client cannot know the outcome.
        if route.mutates and response.status < 300 and self.dice.roll(self.dice.faults.commit_then_fail_rate):
            return self.error(ApiError(500, "internal server error (injected fault)"))
        if self.dice.roll(self.dice.faults.drop_rate):
            return None
        return json_reply(Response(response.status, response.body, (*response.headers, *self.headers)))

    def _admit(self) -> Reply | None:
        """Rate limit, authentication and the faults that strike before anything is applied."""
        style = self.spec.rate_limit
        # An injected 429 refuses the request as the real limit does, so it does not count against it either.
        injected_429 = self.located is not None and self.token in self.backend.tokens and self.dice.rate_limited()
        if style and self.limit is not None:
            # Keyed by the presented token and checked before auth: the docs' limit per API key.
            account = self.located[0] if self.located else ""
            enforced = style.enforced(self.dice.faults)
            # A limit that is not enforced (InfraAudit's nominal one, Encrata's when lifted) is not counted
            # either: its headers announce the whole allowance, so no client slows down for nothing.
            window = self.backend.limiter.hit(
                (self.spec.name, account, self.token),
                self.limit,
                time.time(),
                enforce=enforced,
                count=enforced and not injected_429,
            )
            self.headers = _limit_headers(self.limit, window.remaining, window.reset_epoch)
            if not window.allowed:
                return self.too_many(window.retry_after_s)
        if self.located is None:
            return None
        if self.token not in self.backend.tokens:
            return self.error(ApiError(401, "missing or invalid bearer token"))
        if injected_429:
            wait = self.dice.faults.retry_after_s
            if self.limit is not None:
                self.headers = _limit_headers(self.limit, 0, int(time.time()) + wait)
            return self.too_many(wait)
        if self.dice.roll(self.dice.faults.error_rate):
            return self.error(ApiError(503, "service unavailable (injected fault)"))
        return None

    def error(self, err: ApiError, *extra: tuple[str, str]) -> Reply:
        body = self.spec.error_body(err, self.variant)
        return json_reply(Response(err.status, body, (*self.headers, *extra)))

    def too_many(self, wait_s: int) -> Reply:
        body: dict[str, Any] = self.spec.error_body(ApiError(429, "rate limit exceeded"), self.variant)
        if self.spec.rate_limit and self.spec.rate_limit.wait_in_body:  # InfraAudit: no Retry-After header
            return json_reply(Response(429, {**body, "retryAfter": wait_s}, self.headers))
        return json_reply(Response(429, body, (*self.headers, ("Retry-After", str(wait_s)))))


def _match(
    spec: ProviderSpec, method: str, segments: tuple[str, ...]
) -> tuple[Route | None, dict[str, str], list[str]]:
    """The route for this method and path, or the methods the path does allow (for a 405)."""
    allowed: list[str] = []
    for route in spec.routes:
        params = route.match(segments)
        if params is None:
            continue
        if route.method == method:
            return route, params, allowed
        allowed.append(route.method)
    return None, {}, allowed


def _limit_headers(limit: int, remaining: int, reset_epoch: int) -> tuple[tuple[str, str], ...]:
    return (
        ("X-RateLimit-Limit", str(limit)),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", str(reset_epoch)),
    )


def _query(raw: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON", code="invalid_json") from None
