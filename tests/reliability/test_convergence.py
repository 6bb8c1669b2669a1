"""Property: from any live state, under any mix of injected faults, apply (plus at most one clean re-run)
converges: an empty plan, no declared webhook twice, every stored secret the one its API issued."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import Faults, Sandbox
from tests.e2e.world import World
from tests.fixtures.keyring_service import KeyringTestEnv
from tests.reliability.harness import Harness, OrgSpec, assert_converged, fast_retries, scenarios

faults = st.builds(
    Faults,
    error_rate=st.sampled_from((0.0, 0.1, 0.3)),
    rate_limit_every=st.sampled_from((0, 3, 7)),
    retry_after_s=st.just(0),  # a small Retry-After; the real waits are tested in test_retries.py
    commit_then_fail_rate=st.sampled_from((0.0, 0.2, 0.5)),
    drop_rate=st.sampled_from((0.0, 0.1, 0.3)),
    seed=st.integers(0, 2**16),
    encrata_rate_limit=st.none(),  # per-key limits are covered in test_retries.py
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios(), injected=faults)
def test_apply_converges_from_any_state_under_faults(
    world: World,
    keyring_store_env: KeyringTestEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario: tuple[list[OrgSpec], list[OrgSpec]],
    injected: Faults,
) -> None:
    before, after = scenario
    fast_retries(monkeypatch)
    sandbox: Sandbox = world.sandbox
    sandbox.reset()
    # A fresh keyring service and directory per example: examples share the function's fixtures.
    env = dataclasses.replace(keyring_store_env, service=f"reconciler-prop-{uuid.uuid4().hex[:12]}")
    example = World(sandbox, env, tmp_path / uuid.uuid4().hex[:8])
    example.tmp.mkdir()
    harness = Harness(example, {})

    # The live state: what an earlier manifest made (webhooks it has and the new one drops are unmanaged).
    first = harness.write(before, "before.yaml")
    setup = example.run("apply", first, "--auto-approve", "--allow-deletes")
    assert setup.code == 0, setup.text

    sandbox.set_faults(injected)
    path = harness.write(after)
    result = example.run("apply", path, "--auto-approve", "--allow-deletes")
    assert result.code in (0, 1, 4), result.text
    sandbox.set_faults(Faults(encrata_rate_limit=None))
    if result.code != 0:
        again = example.run("apply", path, "--auto-approve", "--allow-deletes")
        assert again.code == 0, result.text + again.text
    assert_converged(example, after, path)
    example.assert_no_secret_leaked()
