"""A real `reconciler apply` process killed (SIGKILL) or interrupted (SIGINT) mid-run; a re-run converges:
no duplicate webhook, no secret lost — also when the kill fell between the provider's create and the store
write, where nobody ever saw the new webhook's secret."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from reconciler.core.model import StoreConfig
from reconciler.engine.applier import INDEX_BATCH
from reconciler.sandbox import Faults
from reconciler.stores.keyring import KeyringStore
from tests.e2e.world import TOKEN_ENV, World
from tests.reliability.harness import PROVIDERS, OrgSpec, assert_converged

WAIT_LIMIT = 30.0  # seconds a child may take before the test gives up on it (a hang, never a timing check)


def specs(providers: tuple[str, ...], hooks: int) -> list[OrgSpec]:
    return [
        OrgSpec(
            f"kill-{provider}",
            provider,
            True,
            tuple(
                {"name": f"h{i}", "url": f"https://hooks.acme.example/{provider}/h{i}/v1"} for i in range(hooks)
            ),
        )
        for provider in providers
    ]


def write(world: World, orgs: list[OrgSpec], name: str = "webhooks.yaml") -> str:
    declared = [world.org(s.name, s.provider, [dict(h) for h in s.hooks], prune=True) for s in orgs]
    return str(world.write(declared, name=name))


def start_apply(world: World, path: str) -> subprocess.Popen[str]:
    env = {
        **world.keyring.env,
        TOKEN_ENV: "sandbox-token",
        "XDG_STATE_HOME": str(world.tmp / "state"),
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],  # the org locks, where the in-process runs look
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", path, "--auto-approve", "--allow-deletes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition: Callable[[], bool], child: subprocess.Popen[str]) -> bool:
    """Poll until `condition` holds (True) or the child exits first (False)."""
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        if condition():
            return True
        if child.poll() is not None:
            return False
        time.sleep(0.001)
    child.kill()
    raise AssertionError("the apply neither reached the point to interrupt nor finished")


def finish(world: World, child: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = child.communicate(timeout=WAIT_LIMIT)
    world.outputs += [out, err]
    return child.returncode, out + err


def creates(world: World) -> int:
    return sum(1 for r in world.sandbox.requests if r.method == "POST" and r.status in (200, 201))


def test_kill_between_create_and_store_write_is_recovered(world: World) -> None:
    """SIGKILL as soon as the provider has committed a create, before the process can store its secret.
    Ingate must delete and re-create the orphan, Keeptrusts rotates it in place, Immuta (whose secret is
    stored before it is sent) gets a new key; the re-run says so."""
    orgs = specs(("ingate", "keeptrusts", "immuta"), 1)
    path = write(world, orgs)
    for spec in orgs:
        child = start_apply(world, write(world, [spec], name=f"{spec.name}.yaml"))
        reached = wait_until(lambda: creates(world) > 0, child)
        child.send_signal(signal.SIGKILL)
        code, _ = finish(world, child)
        assert reached and code == -signal.SIGKILL
        world.sandbox.clear_requests()
        (orphan,) = world.live(spec.provider, spec.name)
        if spec.provider != "immuta":  # there the secret is stored before the create is sent
            assert world.stored(spec.name, "h0") != world.current_secret(spec.provider, spec.name, orphan["id"])

    plan = world.run("plan", path)
    assert plan.code == 0, plan.text
    assert plan.out.count('secret: "unknown: an earlier apply was interrupted" → "new secret"') == 3, plan.out
    rerun = world.run("apply", path, "--auto-approve")
    assert rerun.code == 0, rerun.text
    assert "re-created with a new secret" in rerun.out  # ingate: no rotation endpoint
    assert rerun.out.count("secret rotated in place") == 2  # keeptrusts and immuta
    assert_converged(world, orgs, path)


def test_kill_between_index_writes_leaves_every_unindexed_create_marked(world: World) -> None:
    """Creates write the index once per INDEX_BATCH, each secret at once. SIGKILL past the first index write:
    every secret but the one under way is stored, every webhook not yet in the index is still marked
    pending (the re-run gives those a new secret, nothing else), and the re-run converges."""
    (spec,) = specs(("ingate",), INDEX_BATCH + 6)
    path = write(world, [spec])
    world.sandbox.set_faults(Faults(latency_ms=15))
    child = start_apply(world, path)
    reached = wait_until(lambda: creates(world) >= INDEX_BATCH + 2, child)
    child.send_signal(signal.SIGKILL)
    code, _ = finish(world, child)
    assert reached and code == -signal.SIGKILL
    world.sandbox.set_faults(Faults())

    live = {w["id"]: w for w in world.live("ingate", spec.name)}
    index = KeyringStore(StoreConfig("desktop", "keyring", service=world.service)).read_index(spec.name)
    assert index is not None
    indexed = {entry.webhook_id for entry in index.values() if not entry.pending}
    assert len(indexed) >= INDEX_BATCH and indexed <= live.keys()  # the first batch was written
    marked = [name for name, entry in index.items() if entry.pending]
    assert len(marked) == len(index) - len(indexed)  # every other declared webhook is still marked
    unindexed = live.keys() - indexed
    assert len(unindexed) <= INDEX_BATCH
    lost = [i for i, w in live.items() if world.stored(spec.name, w["url"].split("/")[-2]) != w["secret"]]
    assert len(lost) <= 1  # only a create whose answer came as the process died

    plan = world.run("plan", path)
    assert plan.out.count("unknown: an earlier apply was interrupted") == len(unindexed), plan.out
    rerun = world.run("apply", path, "--auto-approve")
    assert rerun.code == 0, rerun.text
    assert_converged(world, [spec], path)


def test_sigkill_at_random_points_then_rerun_converges(world: World) -> None:
    orgs = specs(PROVIDERS, 4)
    path = write(world, orgs)
    rng = random.Random(7)
    world.sandbox.set_faults(Faults(latency_ms=15))
    for _ in range(3):
        target = creates(world) + rng.randint(1, 6)
        child = start_apply(world, path)
        wait_until(lambda goal=target: creates(world) >= goal, child)  # type: ignore[misc]
        child.send_signal(signal.SIGKILL)
        finish(world, child)
    world.sandbox.set_faults(Faults())
    rerun = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert rerun.code == 0, rerun.text
    assert_converged(world, orgs, path)


def test_ctrl_c_mid_apply_exits_130_and_a_rerun_converges(world: World) -> None:
    orgs = specs(("ingate", "infraaudit", "keeptrusts"), 5)
    path = write(world, orgs)
    world.sandbox.set_faults(Faults(latency_ms=60))
    child = start_apply(world, path)
    assert wait_until(lambda: creates(world) >= 2, child)
    child.send_signal(signal.SIGINT)
    code, text = finish(world, child)
    assert code == 130, text
    assert "interrupted" in text and "not attempted: interrupted" in text
    assert " not attempted." in text and "held back" not in text, text  # creates left undone are not deletes
    world.sandbox.set_faults(Faults())
    # Whatever was under way finished cleanly: nothing needs a new secret.
    plan = world.run("plan", path)
    assert "unknown: an earlier apply was interrupted" not in plan.out, plan.out
    rerun = world.run("apply", path, "--auto-approve")
    assert rerun.code == 0, rerun.text
    assert_converged(world, orgs, path)


def test_sigterm_stops_like_ctrl_c(world: World) -> None:
    orgs = specs(("ingate",), 6)
    path = write(world, orgs)
    world.sandbox.set_faults(Faults(latency_ms=60))
    child = start_apply(world, path)
    assert wait_until(lambda: creates(world) >= 1, child)
    os.kill(child.pid, signal.SIGTERM)
    code, text = finish(world, child)
    assert code == 130, text
    world.sandbox.set_faults(Faults())
    assert world.run("apply", path, "--auto-approve").code == 0
    assert_converged(world, orgs, path)
