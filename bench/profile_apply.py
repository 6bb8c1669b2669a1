"""Where an apply of new webhooks spends its time: wall and CPU per phase, and the API requests in flight.

The bench's creates scenario (bench_plan.py: Ingate and InfraAudit orgs on the sandbox with injected latency, a
real OpenBao store) run once, with timers around the apply's own functions inside the `reconciler` process
(`--child`): wall seconds summed over the threads, per call, and the CPU of the calling thread. Beside it the
sandbox counts the requests in flight over time, and the CPU that OpenBao and the sandbox used. A sampling
profiler was tried first: py-spy's default mode pauses the process about a hundred times a second, which made
the report's printing look like 6 s of a 7 s run (it takes 0.12 s), so timers it is.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from bench_plan import manifest, sandbox_and_vault, scale_arguments

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.sandbox import Faults, router, server  # noqa: E402

# (module, function or Class.method, label): the phases of `apply`, then the steps of one create.
TIMED = (
    ("reconciler.engine.usecases", "plan_orgs", "plan (and the check after apply): lists, store reads, diff"),
    ("reconciler.engine.usecases", "apply_plan", "apply_plan: every org's changes"),
    ("reconciler.commands.apply", "print_report", "the report"),
    ("reconciler.engine.reading", "read_org", "  one org read: its list request, its index"),
    ("reconciler.stores.vault", "VaultStore.read_index", "    index reads"),
    ("reconciler.stores.vault", "VaultStore.names", "    record lists (an org without an index)"),
    ("reconciler.engine.applier", "OrgApplier.mark_pending", "  pending marks (one index write per org)"),
    ("reconciler.engine.applier", "OrgApplier.create", "  one create, whole"),
    ("reconciler.engine.applier", "OrgApplier.create_once", "    the provider's create request"),
    ("reconciler.stores.vault", "VaultStore.write", "    the secret's write"),
    ("reconciler.stores.vault", "VaultStore.write_index", "    index writes"),
    ("reconciler.stores.vault", "VaultStore.read", "  record reads"),
)


class Timers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wall: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                with self.lock:
                    self.wall[label] += time.perf_counter() - wall
                    self.cpu[label] += time.thread_time() - cpu
                    self.calls[label] += 1

        return timed

    def install(self) -> None:
        for module, name, label in TIMED:
            owner: Any = importlib.import_module(module)
            *path, attribute = name.split(".")
            for part in path:
                owner = getattr(owner, part)
            setattr(owner, attribute, self.wrap(getattr(owner, attribute), label))

    def report(self, started: float) -> str:
        lines = [f"reconciler process: {time.perf_counter() - started:.2f} s from the timers' start, "
                 f"{time.process_time():.2f} s of CPU (interpreter start-up before it)"]
        for _, _, label in TIMED:
            calls = self.calls[label]
            if calls:
                lines.append(f"{label:62} {self.wall[label]:7.2f} s wall in {calls:5} calls "
                             f"({self.wall[label] / calls * 1000:6.2f} ms each), CPU {self.cpu[label]:5.2f} s "
                             f"({self.cpu[label] / calls * 1000:5.2f} ms each)")
        return "\n".join(lines)


def child(argv: list[str]) -> None:
    """`reconciler` in this process, with the timers; their report on stderr before the process ends."""
    from reconciler import cli

    timers = Timers()
    timers.install()
    started = time.perf_counter()
    exit_process = os._exit

    def report_then_exit(code: int) -> None:  # the CLI ends with os._exit: no atexit hook would run
        sys.stderr.write(timers.report(started) + "\n")
        sys.stderr.flush()
        exit_process(code)

    os._exit = report_then_exit  # type: ignore[assignment]
    sys.argv = ["reconciler", *argv]
    cli.entry()


class InFlight:
    """Requests the sandbox is serving at once, integrated over time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.first = self.last = 0.0
        self.seconds_at: defaultdict[int, float] = defaultdict(float)

    def wrap(self, dispatch: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            self.step(+1)
            try:
                return dispatch(*args)
            finally:
                self.step(-1)

        return counted

    def step(self, change: int) -> None:
        with self.lock:
            now = time.perf_counter()
            if self.last:
                self.seconds_at[self.now] += now - self.last
            self.first = self.first or now
            self.last = now
            self.now += change

    def report(self) -> str:
        span = self.last - self.first
        mean = sum(n * s for n, s in self.seconds_at.items()) / span
        at = " ".join(f"{n}:{s:.2f}" for n, s in sorted(self.seconds_at.items()))
        return f"API requests in flight: mean {mean:.2f} over {span:.2f} s (first to last request); seconds at n: {at}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser()
    scale_arguments(parser, orgs=20)
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    with sandbox_and_vault() as (sandbox, vault, env), tempfile.TemporaryDirectory(prefix="reconciler-profile-") as tmp:
        in_flight = InFlight()
        server.dispatch = in_flight.wrap(router.dispatch)  # type: ignore[attr-defined]
        path = Path(tmp) / "creates.yaml"
        path.write_text(yaml.safe_dump(manifest(sandbox, args.orgs, args.webhooks, "new"), sort_keys=False))
        sandbox.set_faults(Faults(latency_ms=args.latency_ms, encrata_rate_limit=None))
        assert vault.process is not None
        vault_cpu, sandbox_cpu, started = cpu_seconds(vault.process.pid), time.process_time(), time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--child", "apply", str(path), "--auto-approve",
             "--parallelism", str(args.parallelism)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
        )
        wall = time.perf_counter() - started
        print(f"apply of {args.orgs * args.webhooks} creates ({args.orgs} orgs, {args.latency_ms} ms, parallelism "
              f"{args.parallelism}): exit {done.returncode}, wall {wall:.2f} s, {len(sandbox.requests)} requests")
        print(done.stderr.rstrip())
        print(in_flight.report())
        print(f"CPU beside it: OpenBao {cpu_seconds(vault.process.pid) - vault_cpu:.2f} s, the sandbox "
              f"{time.process_time() - sandbox_cpu:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
