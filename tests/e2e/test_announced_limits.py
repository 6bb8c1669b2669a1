"""contract §7.1 against the sandbox: a rate limit the API announces (higher than the documented one) is used."""

from __future__ import annotations

import time
from pathlib import Path

from reconciler.sandbox import Faults
from tests.e2e.world import World


def encrata_hooks(count: int) -> list[dict[str, object]]:
    return [{"name": f"h{i:02d}", "url": f"https://hooks.acme.example/{i}", "events": ["credits.low"]}
            for i in range(count)]


def test_a_lifted_limit_announced_by_the_api_is_used(world: World) -> None:
    """Encrata documents 30 requests/minute; this account's API announces 3,000: 40 creates (80 requests
    with the list and index reads) go in seconds, not in two rate windows."""
    world.sandbox.set_faults(Faults(encrata_rate_limit=3000), provider="encrata")
    manifest: Path = world.write([world.org("acme", "encrata", encrata_hooks(40))])
    started = time.monotonic()
    result = world.run("apply", manifest, "--auto-approve")
    assert result.code == 0, result.text
    assert time.monotonic() - started < 45  # 30/min would need more than 60 s
    assert len(world.live("encrata", "acme")) == 40
