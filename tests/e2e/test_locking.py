"""One writer per organization (contract §5.1): real `reconciler apply` processes racing over the sandbox with
latency, on the real keyring and a real OpenBao; locks held by another run, killed runs, `unlock`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from reconciler.cli import main
from reconciler.core.model import IndexEntry
from reconciler.engine.applier import LOCK_GONE
from reconciler.runtime.locking import Holder, OrgLock, parse_duration
from reconciler.sandbox import Faults
from reconciler.stores.keyring import KeyringStore
from reconciler.stores.vault import VaultStore
from tests.e2e.world import TOKEN_ENV, VAULT_ADDR_ENV, VAULT_TOKEN_ENV, VaultView, World
from tests.reliability.harness import OrgSpec, assert_converged

WAIT_LIMIT = 60.0  # seconds a child may take before the test gives up on it (a hang, never a timing check)
STORES = ("keyring", "vault")


@dataclass
class Setup:
    """The e2e world with its orgs' secrets in one store: the real keyring, or a real OpenBao."""

    world: World
    store: str
    vault: VaultView | None = None

    def write(self, orgs: list[OrgSpec], name: str = "webhooks.yaml") -> str:
        where = {"secret_store": "team-vault"} if self.vault else {}
        declared = [self.world.org(s.name, s.provider, [dict(h) for h in s.hooks], prune=True, **where) for s in orgs]
        top: dict[str, Any] = {"secret_stores": self.vault.stores()} if self.vault else {}
        return str(self.world.write(declared, name=name, **top))

    def stored(self, org: str, webhook: str) -> str | None:
        if self.vault:
            record = self.vault.read(org, webhook)
            return None if record is None else str(record["secret"])
        return self.world.stored(org, webhook)

    def converged(self, orgs: list[OrgSpec], path: str) -> None:
        assert_converged(self.world, orgs, path, self.stored)

    def lock(self, org: str, holder: Holder | None = None) -> OrgLock:
        """The org's lock as another run would take it."""
        if self.vault:
            return VaultStore(self.vault.server.config(path=self.vault.path)).org_lock(org, holder or Holder.this_run())
        return KeyringStore(self.world.keyring.config()).org_lock(org, holder or Holder.this_run())


@pytest.fixture(params=STORES)
def setup(request: pytest.FixtureRequest, world: World) -> Setup:
    vault = request.getfixturevalue("vault") if request.param == "vault" else None
    return Setup(world, str(request.param), vault)


@pytest.fixture
def vault_setup(world: World, vault: VaultView) -> Setup:
    return Setup(world, "vault", vault)


@pytest.fixture
def keyring_setup(world: World) -> Setup:
    return Setup(world, "keyring")


def specs(providers: tuple[str, ...], hooks: int, tag: str = "v1") -> list[OrgSpec]:
    return [
        OrgSpec(
            f"lock-{provider}",
            provider,
            True,
            tuple({"name": f"h{i}", "url": f"https://hooks.acme.example/{provider}/h{i}/{tag}"} for i in range(hooks)),
        )
        for provider in providers
    ]


def start(world: World, *args: str) -> subprocess.Popen[str]:
    env = {
        **world.keyring.env,
        TOKEN_ENV: "sandbox-token",
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
        "NO_COLOR": "1",
    }
    for name in (VAULT_ADDR_ENV, VAULT_TOKEN_ENV):
        if name in os.environ:
            env[name] = os.environ[name]
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(world: World, child: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = child.communicate(timeout=WAIT_LIMIT)
    world.outputs += [out, err]
    return child.returncode, out + err


def wait_until(condition: Callable[[], bool], child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        if condition():
            return
        if child.poll() is not None:
            raise AssertionError(f"the child ended first: {child.communicate()}")
        time.sleep(0.005)
    child.kill()
    raise AssertionError("the child never reached the point to test")


def settle(world: World) -> None:
    """Wait until the sandbox has answered what a killed child had in flight: a request the server got
    before the kill still commits, as on a real API, and a re-run racing it is not what these tests check."""
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 0.3:
        if (count := len(world.sandbox.requests)) != seen:
            seen, quiet_since = count, time.monotonic()
        time.sleep(0.02)


def creates(world: World) -> int:
    return sum(1 for r in world.sandbox.requests if r.method == "POST" and r.status in (200, 201))


def apply_args(path: str, *more: str) -> tuple[str, ...]:
    return ("apply", path, "--auto-approve", "--allow-deletes", *more)


def test_two_applies_started_together_leave_one_webhook_per_name(setup: Setup) -> None:
    """Several rounds of two runs of one manifest at once: one applies, the other finds nothing to do."""
    world = setup.world
    world.sandbox.set_faults(Faults(latency_ms=20, encrata_rate_limit=None))
    for round_ in range(3):
        orgs = specs(("ingate", "infraaudit", "encrata"), 8, tag=f"r{round_}")
        path = setup.write(orgs)
        first, second = start(world, *apply_args(path)), start(world, *apply_args(path))
        results = [finish(world, first), finish(world, second)]
        assert [code for code, _ in results] == [0, 0], results
        nothing = [text for _, text in results if "No changes." in text]
        assert len(nothing) == 1, results  # the second run planned inside the lock: the first one's work is done
        world.sandbox.set_faults(Faults(encrata_rate_limit=None))
        setup.converged(orgs, path)
        world.sandbox.set_faults(Faults(latency_ms=20, encrata_rate_limit=None))


def test_an_org_locked_by_another_run_fails_alone_and_names_the_holder(setup: Setup) -> None:
    world = setup.world
    orgs = specs(("ingate", "keeptrusts"), 2)
    path = setup.write(orgs)
    other = Holder.this_run()
    held = setup.lock("lock-ingate", other)
    assert held.try_acquire().acquired
    try:
        # Another org is never held up: nothing waits for it even with no wait allowed.
        alone = world.run(*apply_args(path, "--org", "lock-keeptrusts", "--lock-timeout", "0"))
        assert alone.code == 0, alone.text
        assert "waiting" not in alone.err

        started = time.monotonic()
        both = world.run(*apply_args(path, "--lock-timeout", "1s"))
        waited = time.monotonic() - started
        assert both.code == 1, both.text  # keeptrusts had nothing left to do: no change applied
        assert f"host {other.host}, pid {other.pid}" in both.err, both.err
        assert "waited 1 s (--lock-timeout)" in both.err and "reconciler unlock PATH... lock-ingate" in both.err
        assert waited >= 1.0
        assert world.live("ingate", "lock-ingate") == []  # nothing changed in the locked org

        # plan and drift take no lock.
        assert world.run("plan", path).code == 0
        assert world.run("drift", path).code == 2
    finally:
        held.release()
    assert world.run(*apply_args(path)).code == 0
    setup.converged(orgs, path)


def test_partly_locked_apply_exits_4(setup: Setup) -> None:
    world = setup.world
    orgs = specs(("ingate", "keeptrusts"), 1)
    path = setup.write(orgs)
    held = setup.lock("lock-ingate")
    assert held.try_acquire().acquired
    try:
        result = world.run(*apply_args(path, "--lock-timeout", "0"))
    finally:
        held.release()
    assert result.code == 4, result.text
    assert "lock-ingate: locked by another run" in result.err
    assert len(world.live("keeptrusts", "lock-keeptrusts")) == 1


def test_saved_plan_and_rotate_take_the_lock(setup: Setup, tmp_path: Path) -> None:
    world = setup.world
    orgs = specs(("keeptrusts",), 1)
    path = setup.write(orgs)
    assert world.run(*apply_args(path)).code == 0
    saved = str(tmp_path / "plan.json")
    assert world.run("plan", path, "-o", saved).code == 0
    held = setup.lock("lock-keeptrusts")
    assert held.try_acquire().acquired
    try:
        rotated = world.run("rotate", path, "lock-keeptrusts/h0", "--lock-timeout", "0")
        assert rotated.code == 1 and "lock-keeptrusts: locked by another run" in rotated.err, rotated.text
        applied = world.run("apply", "--plan", saved, "--lock-timeout", "0")
        assert applied.code == 1 and "locked by another run" in applied.err, applied.text
    finally:
        held.release()
    assert world.run("rotate", path, "lock-keeptrusts/h0").code == 0
    setup.converged(orgs, path)


def test_racing_saved_plans_one_applies_the_other_is_stale(setup: Setup, tmp_path: Path) -> None:
    world = setup.world
    world.sandbox.set_faults(Faults(latency_ms=20))
    orgs = specs(("ingate", "infraaudit"), 4)
    path = setup.write(orgs)
    saved = str(tmp_path / "plan.json")
    assert world.run("plan", path, "-o", saved).code == 0
    first, second = start(world, "apply", "--plan", saved), start(world, "apply", "--plan", saved)
    results = sorted(finish(world, child) for child in (first, second))
    # The second re-read the live state inside the lock: its plan was stale.
    assert [code for code, _ in results] == [0, 3], results
    world.sandbox.set_faults(Faults())
    setup.converged(orgs, path)


def test_sigkill_while_holding_locks_then_next_apply_takes_over(setup: Setup) -> None:
    world = setup.world
    orgs = specs(("ingate", "keeptrusts", "infraaudit"), 4)
    path = setup.write(orgs)
    world.sandbox.set_faults(Faults(latency_ms=40))
    child = start(world, *apply_args(path))
    wait_until(lambda: creates(world) >= 2, child)
    child.send_signal(signal.SIGKILL)
    code, _ = finish(world, child)
    assert code == -signal.SIGKILL
    settle(world)
    world.sandbox.set_faults(Faults())
    started = time.monotonic()
    rerun = world.run(*apply_args(path))
    assert rerun.code == 0, rerun.text
    assert time.monotonic() - started < 30  # never the lock's whole lifetime, let alone --lock-timeout
    assert f"took over the lock of host {os.uname().nodename}, pid {child.pid}" in rerun.err, rerun.err
    assert "its process has ended" in rerun.err
    setup.converged(orgs, path)


def test_ctrl_c_releases_the_locks(setup: Setup) -> None:
    world = setup.world
    orgs = specs(("ingate", "keeptrusts"), 5)
    path = setup.write(orgs)
    world.sandbox.set_faults(Faults(latency_ms=60))
    child = start(world, *apply_args(path))
    wait_until(lambda: creates(world) >= 1, child)
    child.send_signal(signal.SIGINT)
    code, text = finish(world, child)
    assert code == 130, text
    for spec in orgs:
        lock = setup.lock(spec.name)
        assert lock.holder() is None  # released, not merely left for a take-over
    world.sandbox.set_faults(Faults())
    rerun = world.run(*apply_args(path))
    assert rerun.code == 0 and "took over" not in rerun.err, rerun.text
    setup.converged(orgs, path)


def test_unlock_removes_a_lock_left_by_a_run_elsewhere(vault_setup: Setup) -> None:
    world = vault_setup.world
    orgs = specs(("ingate",), 1)
    path = vault_setup.write(orgs)
    elsewhere = Holder("ci-runner-7", 4242, "2026-12-07T08:00:00Z", "r1", "https://ci.example/run/9", time.time() + 600)
    vault = vault_setup.vault
    assert vault is not None
    client = vault.server.client().secrets.kv.v2
    client.create_or_update_secret(path=f"{vault.path}/lock-ingate/_lock", secret=elsewhere.fields(), cas=0)

    blocked = world.run(*apply_args(path, "--lock-timeout", "0"))
    assert blocked.code == 1
    assert "host ci-runner-7, pid 4242, started 2026-12-07T08:00:00Z, https://ci.example/run/9" in blocked.err

    refused = world.run("unlock", path, "lock-ingate")  # not a terminal: needs --yes
    assert refused.code == 1 and "--yes" in refused.err
    assert vault.read("lock-ingate", "_lock") is not None
    removed = world.run("unlock", path, "lock-ingate", "--yes")
    assert removed.code == 0, removed.text
    assert "locked by host ci-runner-7, pid 4242" in removed.out and "lock removed" in removed.out
    assert vault.read("lock-ingate", "_lock") is None
    again = world.run("unlock", path, "lock-ingate", "--yes")
    assert again.code == 0 and "is not locked" in again.out
    assert world.run(*apply_args(path)).code == 0
    vault_setup.converged(orgs, path)


def test_unlock_needs_only_the_store_settings_not_the_api_tokens(setup: Setup) -> None:
    """Whoever clears a lock has the store's credentials, not necessarily every org's API token: unlock loads the
    manifests as `validate --offline` does."""
    world = setup.world
    path = setup.write(specs(("ingate", "keeptrusts"), 1))
    if setup.vault:
        elsewhere = Holder("ci-runner-7", 4242, "2026-12-07T08:00:00Z", "r1", None, time.time() + 600)
        client = setup.vault.server.client().secrets.kv.v2
        client.create_or_update_secret(path=f"{setup.vault.path}/lock-ingate/_lock", secret=elsewhere.fields(), cas=0)
    with pytest.MonkeyPatch.context() as patch:  # the world checks that token's absence from output at the end
        patch.delenv(TOKEN_ENV)
        result = world.run("unlock", path, "lock-ingate", "--yes")
        unknown = world.run("unlock", path, "lock-nobody", "--yes")
    assert result.code == 0, result.text
    assert result.err == ""  # no warning about the tokens it did not need
    if setup.vault:
        assert "locked by host ci-runner-7, pid 4242" in result.out and "lock removed" in result.out
        assert setup.vault.read("lock-ingate", "_lock") is None
    else:
        assert "lock-ingate is not locked." in result.out
    assert unknown.code == 1 and "unknown organization 'lock-nobody'" in unknown.err, unknown.text


def test_unlock_names_the_store_variables_it_needs(vault_setup: Setup) -> None:
    path = vault_setup.write(specs(("ingate",), 1))
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(VAULT_TOKEN_ENV)
        result = vault_setup.world.run("unlock", path, "lock-ingate", "--yes")
    assert result.code == 1
    assert (
        f"secret store 'team-vault' of organization 'lock-ingate' needs environment variables that are not set: "
        f"{VAULT_TOKEN_ENV}; set them and run again"
    ) in result.err, result.text


def test_unlock_says_what_it_could_not_read(keyring_setup: Setup) -> None:
    world = keyring_setup.world
    orgs = [
        world.org("by-env-store", "ingate", [], secret_store="${env:ACME_STORE}"),
        world.org("${env:ORG_NAME}", "ingate", []),
    ]
    path = world.write(orgs)
    store = world.run("unlock", path, "by-env-store", "--yes")
    assert store.code == 1
    assert "the secret store of organization 'by-env-store' could not be read" in store.err, store.text
    assert "`reconciler validate --offline` shows where" in store.err
    unknown = world.run("unlock", path, "acme", "--yes")
    assert unknown.code == 1
    assert "unknown organization 'acme'; 1 organization(s) could not be read" in unknown.err, unknown.text


def test_an_expired_vault_lock_is_taken_over(vault_setup: Setup) -> None:
    world = vault_setup.world
    orgs = specs(("infraaudit",), 1)
    path = vault_setup.write(orgs)
    lapsed = Holder("ci-runner-7", 4242, "2026-12-07T08:00:00Z", "r1", None, time.time() - 5)
    vault = vault_setup.vault
    assert vault is not None
    client = vault.server.client().secrets.kv.v2
    client.create_or_update_secret(path=f"{vault.path}/lock-infraaudit/_lock", secret=lapsed.fields(), cas=0)
    result = world.run(*apply_args(path, "--lock-timeout", "0"))
    assert result.code == 0, result.text
    assert "took over the lock of host ci-runner-7, pid 4242" in result.err and "it expired at" in result.err
    assert vault.read("lock-infraaudit", "_lock") is None  # released at the end
    vault_setup.converged(orgs, path)


def test_a_vault_lock_is_renewed_while_held_and_lapses_when_not(
    vault_setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.runtime import locking

    monkeypatch.setattr(locking, "LEASE", 0.6)
    mine, theirs = vault_setup.lock("acme"), vault_setup.lock("acme")
    assert mine.try_acquire().acquired
    renewer = locking.Renewer()
    renewer.add("acme", mine)
    time.sleep(1.0)  # past the first lease: only renewals keep it
    assert not theirs.try_acquire().acquired
    renewer.close()
    time.sleep(0.8)  # no renewal for longer than a lease: it lapses
    taken = theirs.try_acquire()
    assert taken.acquired and taken.why_stale.startswith("it expired at")
    assert not mine.renew()  # the first holder learns that it lost the lock
    theirs.release()
    assert mine.holder() is None


def test_a_run_whose_lock_is_taken_over_starts_nothing_new_and_keeps_the_other_runs_index(
    vault_setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that stalled past its lease finds its lock taken over: the change in flight finishes, no other starts,
    and its index writes apply only its own entries to the other run's index, never overwrite it."""
    from reconciler.runtime import locking

    monkeypatch.setattr(locking, "LEASE", 0.6)  # renewed every 0.2 s
    world, vault = vault_setup.world, vault_setup.vault
    assert vault is not None
    org = "lock-ingate"
    path = vault_setup.write(specs(("ingate",), 3))
    world.sandbox.set_faults(Faults(latency_ms=800))  # each create stays in flight for a while
    store = VaultStore(vault.server.config(path=vault.path))
    done: list[Any] = []
    run = threading.Thread(target=lambda: done.append(world.run(*apply_args(path))))
    run.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while not any(entry.pending for entry in (store.read_index(org) or {}).values()):  # marked: creating now
        assert time.monotonic() < deadline and run.is_alive(), done
        time.sleep(0.02)
    # Another run takes the lock over and writes an index of its own.
    other = Holder("ci-runner-7", 4242, "2026-12-07T08:00:00Z", "r2", None, time.time() + 600)
    vault.server.client().secrets.kv.v2.create_or_update_secret(path=f"{vault.path}/{org}/_lock", secret=other.fields())
    # Its own entries, one of them for a webhook this run had marked but will not get to.
    store.write_index(org, {"theirs": IndexEntry("wh_theirs", False), "h2": IndexEntry("wh_other", False)})
    run.join(WAIT_LIMIT)
    (result,) = done
    assert result.code != 0, result.text
    live = world.live("ingate", org)  # the change in flight (on a slow machine, perhaps one more)
    assert 3 - len(live) == result.text.count(f"not attempted: {LOCK_GONE}") >= 1
    index = store.read_index(org) or {}
    assert index.pop("theirs") == IndexEntry("wh_theirs", False), index
    assert index.pop("h2") == IndexEntry("wh_other", False), index  # its mark taken back, theirs left in place
    assert sorted(e.webhook_id for e in index.values()) == sorted(h["id"] for h in live), index
    assert not any(e.pending for e in index.values()), index  # the marks of the changes not started: taken back
    for name in index:
        assert vault.read(org, name) is not None  # the secret of each webhook it did create is stored
    assert vault.read(org, "_lock") is not None  # the other run's lock stays: this run only lets go of its own


def test_a_lock_not_renewed_for_a_whole_lease_may_be_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once its expiry has passed unrenewed (the store out of reach, the process stopped), another run may hold
    the lock before any renewal could say so: the org counts as lost from then on."""
    from reconciler.runtime import locking

    monkeypatch.setattr(locking, "LEASE", 0.3)
    answer = threading.Event()

    class StalledStore:  # its renewals hang until the test lets them answer
        renews = True

        def renew(self) -> bool:
            answer.wait(10)
            return True

    renewer = locking.Renewer()
    renewer.add("acme", cast(OrgLock, StalledStore()))
    assert not renewer.may_be_lost("acme")
    time.sleep(0.5)
    assert renewer.may_be_lost("acme") and "acme" not in renewer.lost
    answer.set()
    renewer.close()


def test_unlock_refuses_a_file_lock_a_live_process_holds(keyring_setup: Setup) -> None:
    world = keyring_setup.world
    path = keyring_setup.write(specs(("ingate",), 1))
    held = keyring_setup.lock("lock-ingate")
    assert held.try_acquire().acquired
    try:
        result = world.run("unlock", path, "lock-ingate", "--yes")
        assert result.code == 1
        assert f"held by a running process on this host (pid {os.getpid()})" in result.err, result.err
    finally:
        held.release()
    assert "is not locked" in world.run("unlock", path, "lock-ingate", "--yes").out


def test_lock_timeout_is_a_duration(keyring_setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    path = keyring_setup.write(specs(("ingate",), 1))
    with pytest.raises(SystemExit) as exited:
        main(["apply", path, "--auto-approve", "--lock-timeout", "soon"])
    assert exited.value.code == 1  # a usage error, never 2 ("changes present")
    assert "not a duration: 'soon' (use e.g. 30s, 5m, 1h, or 0 to fail at once)" in capsys.readouterr().err
    assert [parse_duration(t) for t in ("0", "250ms", "30s", "5m", "1.5h")] == [0, 0.25, 30, 300, 5400]


def test_a_hostile_lock_holder_is_shown_escaped(vault_setup: Setup) -> None:
    """Whoever can write the lock record chooses its text: it never reaches a terminal raw."""
    world, vault = vault_setup.world, vault_setup.vault
    assert vault is not None
    path = vault_setup.write(specs(("ingate",), 1))
    forged = Holder("ci\x1b]0;pwned\x07\nPlan: 0 to create", 1, "now", "r1", None, time.time() + 600)
    client = vault.server.client().secrets.kv.v2
    client.create_or_update_secret(path=f"{vault.path}/lock-ingate/_lock", secret=forged.fields(), cas=0)
    blocked = world.run(*apply_args(path, "--lock-timeout", "0"))
    assert blocked.code == 1
    assert "host ci\\x1b]0;pwned\\x07\\x0aPlan: 0 to create, pid 1" in blocked.err, blocked.err
    assert "\x1b" not in blocked.text and "\x07" not in blocked.text
    unlocked = world.run("unlock", path, "lock-ingate", "--yes")
    assert unlocked.code == 0 and "\x1b" not in unlocked.text


def test_two_applies_on_different_orgs_run_side_by_side(setup: Setup) -> None:
    """Two real runs at once, one org each: neither waits for the other (nobody says it is waiting)."""
    world = setup.world
    world.sandbox.set_faults(Faults(latency_ms=20))
    orgs = specs(("ingate", "keeptrusts"), 6)
    path = setup.write(orgs)
    runs = [start(world, *apply_args(path, "--org", spec.name, "--lock-timeout", "0")) for spec in orgs]
    results = [finish(world, child) for child in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert not any("waiting" in text or "locked" in text for _, text in results), results
    world.sandbox.set_faults(Faults())
    setup.converged(orgs, path)
