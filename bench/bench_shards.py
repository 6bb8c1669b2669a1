"""A no-op plan of a large fleet, whole and split into shards run as separate processes (issue 18).

One process plans 100,000 webhooks with nearly all of its time on one core (the GIL), so scale-out is
processes: `--shard K/N`. This prints the whole plan's wall and CPU, then the N shard processes started at once:
the total wall (first start to last end) and each shard's orgs, wall and CPU. It asserts nothing.
On a machine with fewer cores than shards (plus the sandbox and OpenBao), the shards share the cores: the
total wall then shows the machine, the per-shard CPU what each process costs."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_plan import TOKEN, machine_speed, manifest, populate, sandbox_and_vault, scale_arguments, timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.core.model import StoreConfig  # noqa: E402
from reconciler.core.secret import Secret  # noqa: E402
from reconciler.sandbox import Faults  # noqa: E402
from reconciler.stores.vault import VaultStore  # noqa: E402


def shard_runs(py: list[str], path: Path, shards: int, parallelism: int, env: dict[str, str]) -> None:
    """The shards as processes started together; each one's wall and CPU from os.wait4."""
    start = time.perf_counter()
    procs = {}
    for k in range(shards):
        cmd = [*py, "plan", str(path), "--shard", f"{k}/{shards}", "--detailed-exitcode", "--format", "json",
               "--parallelism", str(parallelism)]
        out = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed when the process has ended
        procs[subprocess.Popen(cmd, env=env, stdout=out).pid] = (k, out, time.perf_counter())
    results = {}
    while procs:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in procs:
            continue
        k, out, began = procs.pop(pid)
        with out:
            out.seek(0)
            text = out.read()
        doc = json.loads(text) if os.waitstatus_to_exitcode(status) in (0, 2) else {"organizations": []}
        hooks = sum(o["live_count"] for o in doc["organizations"])
        results[k] = (os.waitstatus_to_exitcode(status), len(doc["organizations"]), hooks,
                      time.perf_counter() - began, usage.ru_utime + usage.ru_stime)
    total = time.perf_counter() - start
    print(f"{shards} shard processes at once: total wall {total:.2f} s")
    for k, (code, orgs, hooks, wall, cpu) in sorted(results.items()):
        print(f"  shard {k}/{shards}: exit {code}, {orgs} orgs, {hooks} webhooks, wall {wall:.2f} s, CPU {cpu:.2f} s")


def write_split(doc: dict[str, object], directory: Path, per_file: int = 250) -> Path:
    """The manifest as a directory of files (one file may hold at most 4 MiB); the stores in the first."""
    orgs = doc["organizations"]
    assert isinstance(orgs, list)
    directory.mkdir()
    for n, first in enumerate(range(0, len(orgs), per_file)):
        part: dict[str, object] = {"version": 1, "organizations": orgs[first:first + per_file]}
        if n == 0:
            part["secret_stores"] = doc["secret_stores"]
        (directory / f"orgs-{n:03d}.yaml").write_text(yaml.safe_dump(part, sort_keys=False))
    return directory


def main() -> int:
    parser = argparse.ArgumentParser()
    scale_arguments(parser, orgs=2000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()

    with sandbox_and_vault() as (sandbox, vault, env), tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        store = VaultStore(StoreConfig("vault", "vault", address=vault.address, token=Secret(vault.root_token),
                                       path="bench"))
        doc = manifest(sandbox, args.orgs, args.webhooks, "org")
        # One key per org, as a fleet of accounts has: the shard rule keeps orgs sharing a key together.
        orgs = doc["organizations"]
        assert isinstance(orgs, list)
        for i, org in enumerate(orgs):
            org["token"] = "${env:BENCH_TOKEN_" + str(i % 64) + "}"
        env.update({f"BENCH_TOKEN_{i}": TOKEN for i in range(64)})
        os.environ.update(env)
        path = write_split(doc, Path(tmp) / "webhooks")
        size = sum(f.stat().st_size for f in path.iterdir()) // 1024
        print(f"setup: {args.orgs} orgs x {args.webhooks} webhooks = {args.orgs * args.webhooks} webhooks, "
              f"{size} KiB of YAML in {len(list(path.iterdir()))} files, 64 API keys, {os.cpu_count()} cores; "
              "machine speed "
              f"{machine_speed():.2f} s for sum(range(30M)) (lower is faster)")
        populate(sandbox, doc, store)
        sandbox.set_faults(Faults(latency_ms=args.latency_ms, encrata_rate_limit=None))
        py = [sys.executable, "-m", "reconciler"]
        wall, code, cpu = timed([*py, "plan", str(path), "--detailed-exitcode",
                                 "--parallelism", str(args.parallelism)], env)
        print(f"whole plan, one process: exit {code}, wall {wall:.2f} s, CPU {cpu:.2f} s")
        shard_runs(py, path, args.shards, args.parallelism, env)
        load = os.getloadavg()[0]
        print(f"load average at the end: {load:.1f} (other processes share the machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
