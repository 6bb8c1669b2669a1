"""Bounded reads (issue 15, contract §7): an answer that never ends, one trickled a byte at a time (headers
too), one that claims to be huge or comes compressed against our ask. Each fails its request as a transport
error within the deadline, holding at most the 16 MiB cap in memory; the real client (pools, bounded
network streams) talks HTTP to a hostile server on loopback."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest

from reconciler import providers
from reconciler.core.errors import ProviderError
from reconciler.core.secret import Secret
from reconciler.plugins import open_provider
from reconciler.providers.bounds import MAX_BODY_BYTES
from reconciler.providers.http import RetryPolicy
from reconciler.providers.ingate import PATH
from tests.fixtures.hostile_server import HostileServer, answer, endless, trickle

DEADLINE = 1.0
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _fresh_pools() -> Iterator[None]:
    providers.close_all()
    yield
    providers.close_all()


def ingate(server: HostileServer, *, read_only: bool = True, deadline: float = DEADLINE):
    return open_provider(
        "ingate",
        server.url,
        Secret("tok-hostile"),
        read_only=read_only,
        retry=RetryPolicy(max_attempts=1),
        deadline=deadline,
    )


def measured(call) -> tuple[ProviderError, float, float]:
    """The ProviderError `call` raises, the seconds it took and the peak of Python memory meanwhile (MiB)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ProviderError) as caught:
            call()
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()
    return caught.value, elapsed, peak


def test_an_endless_body_stops_at_the_cap(hostile: HostileServer) -> None:
    hostile.on("GET", PATH, endless())
    error, elapsed, peak = measured(ingate(hostile).list)
    print(f"\nendless body: refused after {elapsed:.2f} s, peak Python memory {peak:.1f} MiB")
    assert "answer refused (the answer is larger than 16 MiB)" in str(error)
    assert peak < 2 * MAX_BODY_BYTES / MiB  # the cap, with room for the chunk list; never GBs
    assert elapsed < DEADLINE  # at loopback speed the cap comes long before the deadline


def test_a_declared_length_past_the_cap_is_refused_before_reading(hostile: HostileServer) -> None:
    hostile.on("GET", PATH, endless(content_length=10 * 1024 * MiB))
    error, _elapsed, peak = measured(ingate(hostile).list)
    assert "the answer is larger than 16 MiB" in str(error)
    assert peak < 1, peak  # nothing of the body was read


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers and body"])
def test_a_trickled_answer_fails_at_the_deadline(hostile: HostileServer, headers_too: bool) -> None:
    """A byte every 50 ms: httpx's read timeout (a gap between reads) never fires; the deadline does."""
    hostile.on("GET", PATH, trickle(0.05, headers_too=headers_too))
    error, elapsed, peak = measured(ingate(hostile).list)
    print(f"\ntrickled {'headers and ' if headers_too else ''}body: failed after {elapsed:.2f} s "
          f"(deadline {DEADLINE} s), peak Python memory {peak:.2f} MiB")
    assert "timed out" in str(error) and f"no complete answer within the {DEADLINE:g} s deadline" in str(error)
    assert DEADLINE <= elapsed < DEADLINE + 1.0
    assert peak < 1


def test_a_compressed_answer_we_did_not_ask_for_is_refused(hostile: HostileServer) -> None:
    """We ask for identity: a gzip answer could inflate a thousandfold before any cap saw it."""
    hostile.on("GET", PATH, answer(200, [], {"Content-Encoding": "gzip"}))
    error, _, _ = measured(ingate(hostile).list)
    assert "answer refused (the answer is gzip-encoded, which was not asked for)" in str(error)


def test_a_normal_answer_still_passes(hostile: HostileServer) -> None:
    hostile.on("GET", PATH, answer(200, [{"id": "w1", "url": "https://h.example/a", "events": []}]))
    (hook,) = ingate(hostile).list()
    assert hook.id == "w1"


def test_a_write_whose_answer_trickles_is_of_unknown_outcome_and_not_repeated(hostile: HostileServer) -> None:
    from reconciler.core.model import DesiredWebhook

    hostile.on("POST", PATH, trickle(0.05))
    provider = ingate(hostile, read_only=False)
    hook = DesiredWebhook(name="h", url="https://h.example/a")
    error, _elapsed, _ = measured(lambda: provider.create(hook, None))
    assert error.outcome_unknown and "may or may not have taken effect" in str(error)
    assert [r[0] for r in hostile.requests] == ["POST"]  # never blindly repeated
