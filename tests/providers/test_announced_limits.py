"""contract §7.1: the documented rate limit is the default; `X-RateLimit-Limit/Remaining/Reset`, when an API
announces them, rule, higher or lower; and an org waiting for its own limit gives its --parallelism slot away."""

from __future__ import annotations

import threading

import pytest

from reconciler.providers.http import RateLimiter
from reconciler.runtime import slots


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def wall(self) -> float:
        return 1_800_000_000.0 + self.now


def limiter(per_minute: int | None, fake: FakeTime) -> RateLimiter:
    return RateLimiter(per_minute, clock=fake.clock, sleep=fake.sleep, window_s=60.0, wall_clock=fake.wall)


def headers(limit: int, remaining: int, reset_in: int, *, epoch: bool = True) -> dict[str, str]:
    reset = 1_800_000_000 + reset_in if epoch else reset_in
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": str(reset)}


def test_a_higher_announced_limit_rules_over_the_documented_one() -> None:
    fake = FakeTime()
    limit = limiter(30, fake)
    limit.acquire()
    limit.announce(headers(3000, 2999, 60))
    assert [limit.acquire() for _ in range(200)] == [0.0] * 200  # the documented 30/min would have waited
    assert fake.slept == []


def test_a_lower_announced_budget_rules_too() -> None:
    fake = FakeTime()
    limit = limiter(30, fake)
    limit.announce(headers(5, 2, 20, epoch=False))  # Reset as seconds from now
    assert [limit.acquire() for _ in range(2)] == [0.0, 0.0]
    assert limit.acquire() == pytest.approx(20.0)  # the budget is spent: wait for the announced reset
    assert limit.capacity == 5  # after the reset, the announced limit is the window's


def test_an_api_without_a_documented_limit_is_held_to_its_announced_one() -> None:
    fake = FakeTime()
    limit = limiter(None, fake)
    assert [limit.acquire() for _ in range(100)] == [0.0] * 100
    limit.announce(headers(10, 0, 30))
    assert limit.acquire() == pytest.approx(30.0)


@pytest.mark.parametrize(
    "garbled",
    [{}, {"x-ratelimit-remaining": "-1", "x-ratelimit-reset": "5"}, {"x-ratelimit-limit": "lots"},
     {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e9"}],
)
def test_absent_or_garbled_headers_change_nothing(garbled: dict[str, str]) -> None:
    fake = FakeTime()
    limit = limiter(2, fake)
    limit.announce(garbled)
    assert [limit.acquire() for _ in range(3)] == [0.0, 0.0, pytest.approx(60.0)]


def test_a_reset_far_away_is_not_believed() -> None:
    fake = FakeTime()
    limit = limiter(None, fake)
    limit.announce(headers(10, 0, 10 * 86400))
    assert limit.acquire() == pytest.approx(3600.0)


def test_a_waiting_org_gives_its_slot_to_another() -> None:
    """One slot: the thread that waits (its rate limit) releases it, so the other one runs meanwhile."""
    at_work = threading.BoundedSemaphore(1)
    waiting, other_ran = threading.Event(), threading.Event()

    def rate_limited() -> None:
        with slots.holding(at_work):
            with slots.released():
                waiting.set()
                assert other_ran.wait(10)
            assert not at_work.acquire(blocking=False)  # the slot was taken back before going on

    def other() -> None:
        assert waiting.wait(10)
        with slots.holding(at_work):
            other_ran.set()

    threads = [threading.Thread(target=rate_limited), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert other_ran.is_set()
