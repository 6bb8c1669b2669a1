"""Fault injection (deterministic with a seed) and the sliding-window rate limiter."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, fields

ENCRATA_LIMIT = 30  # requests/minute per API key (docs/providers.md §5)


@dataclass(frozen=True)
class Faults:
    """What can go wrong. Everything is off by default apart from Encrata's documented rate limit."""

    latency_ms: int = 0
    error_rate: float = 0.0  # answer 503 before applying anything
    rate_limit_every: int = 0  # every Nth request of the provider gets a 429; 0 = never
    retry_after_s: int = 1  # the wait announced by those injected 429s
    commit_then_fail_rate: float = 0.0  # apply a write, then answer 500 (outcome unknown)
    drop_rate: float = 0.0  # apply, then close the connection without an answer
    seed: int = 0
    encrata_rate_limit: int | None = ENCRATA_LIMIT  # requests/minute per API key on /api/webhooks*; None = off

    def __post_init__(self) -> None:
        for name in ("error_rate", "commit_then_fail_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("latency_ms", "rate_limit_every", "retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.encrata_rate_limit is not None and self.encrata_rate_limit < 1:
            raise ValueError("encrata_rate_limit must be at least 1 (or None to disable)")

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


class FaultDice:
    """One provider's fault decisions: a seeded RNG and a request counter. Callers hold the app lock."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._count = 0

    def rate_limited(self) -> bool:
        self._count += 1
        every = self.faults.rate_limit_every
        return every > 0 and self._count % every == 0

    def roll(self, rate: float) -> bool:
        # No draw at rate 0, so switching one fault on does not reshuffle the others' sequence.
        return rate > 0 and self._rng.random() < rate


@dataclass(frozen=True)
class WindowState:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int  # when the oldest counted request leaves the window
    retry_after_s: int  # how long until one more request is allowed (0 when allowed)


class SlidingWindow:
    """Counts requests per key over the last `window_s` seconds. Callers hold the app lock."""

    def __init__(self, window_s: float = 60.0) -> None:
        self.window_s = window_s
        self._hits: dict[tuple[str, ...], deque[float]] = {}

    def hit(self, key: tuple[str, ...], limit: int, now: float, *, enforce: bool, count: bool = True) -> WindowState:
        """Count a request (unless `count` is false: one refused for another reason) and say whether the
        window lets it through."""
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        allowed = not enforce or len(hits) < limit
        if allowed and count:
            hits.append(now)  # a refused request does not count against the window
        oldest = hits[0] if hits else now
        reset = oldest + self.window_s
        return WindowState(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - len(hits)),
            reset_epoch=math.ceil(reset),
            retry_after_s=0 if allowed else max(1, math.ceil(reset - now)),
        )
