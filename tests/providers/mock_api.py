"""A scripted `httpx.MockTransport` for faults and vendor variants the emulators do not serve."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from reconciler.core.secret import Secret
from reconciler.providers.http import ApiClient, RateLimiter, RetryPolicy

TOKEN = "tok-Zq93-very-secret"
PREFIX = "/prefix"  # base URLs may carry a path prefix: API paths are appended to it
BASE = "http://api.test" + PREFIX

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class Script:
    """Answers each request with the next scripted reply for its `METHOD path` (the last one repeats)."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def on(self, method: str, path: str, *replies: Reply) -> Script:
        self.replies[f"{method} {PREFIX}{path}"] = list(replies)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.replies.get(f"{request.method} {request.url.path}")
        if not queue:
            return httpx.Response(599, json={"error": f"unscripted {request.method} {request.url.path}"})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def client(
        self,
        *,
        read_only: bool = False,
        max_attempts: int = 4,
        provider: str = "api",
        limiter: RateLimiter | None = None,
    ) -> ApiClient:
        retry = RetryPolicy(max_attempts=max_attempts, sleep=self.sleeps.append, jitter=lambda: 0.5)
        http = httpx.Client(transport=httpx.MockTransport(self))
        return ApiClient(
            http,
            BASE,
            Secret(TOKEN),
            read_only=read_only,
            limiter=limiter,
            retry=retry,
            provider=provider,
            forbidden_hint="role X",
        )

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)
