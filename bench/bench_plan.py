"""Plan and apply at scale against the sandbox with injected latency; prints figures, asserts nothing.

Targets (issue 7): a no-op plan sends one request per org and takes at most 2x the latency floor
(orgs / parallelism x latency) plus interpreter start-up; planning CPU < 0.1 s per 1,000 webhooks.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.core.model import IndexEntry, StoreConfig  # noqa: E402
from reconciler.core.planner import plan_org  # noqa: E402
from reconciler.core.secret import Secret  # noqa: E402
from reconciler.engine.reading import plan_orgs  # noqa: E402
from reconciler.engine.session import Session  # noqa: E402
from reconciler.manifest import load_manifests  # noqa: E402
from reconciler.sandbox import Faults, Sandbox  # noqa: E402
from reconciler.stores.vault import VaultStore  # noqa: E402
from tests.fixtures.vault_server import VaultServer, start_openbao  # noqa: E402

TOKEN = "sandbox-token"
PROVIDERS = ("ingate", "infraaudit")  # Encrata's documented 30 requests/minute would measure the limit


def manifest(sandbox: Sandbox, orgs: int, hooks: int, prefix: str) -> dict[str, object]:
    entries = []
    for i in range(orgs):
        provider = PROVIDERS[i % len(PROVIDERS)]
        name = f"{prefix}{i:04d}"
        entries.append({
            "name": name, "provider": provider, "base_url": sandbox.base_url(provider, account=name),
            "token": "${env:BENCH_TOKEN}", "secret_store": "vault",
            "webhooks": [{"name": f"hook-{j:03d}", "url": f"https://hooks.bench.example/{name}/{j}",
                          "events": ["drift.detected"] if provider == "infraaudit" else ["key.create"]}
                         for j in range(hooks)],
        })
    return {"version": 1,
            "secret_stores": {"vault": {"type": "vault", "address": "${env:VAULT_ADDR}",
                                        "token": "${env:VAULT_TOKEN}", "path": "bench"}},
            "organizations": entries}


def fleet_manifest(flat: dict[str, object]) -> dict[str, object]:
    """The same manifest written with sets (contract §2.1): one set of `hooks` webhooks per provider, each org
    using its provider's set with its own name as a variable. Expands to exactly the flat form's webhooks."""
    orgs = flat["organizations"]
    assert isinstance(orgs, list)
    sets: dict[str, list[dict[str, object]]] = {}
    entries = []
    for org in orgs:
        hooks = org["webhooks"]
        name = org["name"]
        sets.setdefault(f"{org['provider']}-set", [
            {**hook, "url": hook["url"].replace(f"/{name}/", "/${var:org}/")} for hook in hooks
        ])
        entries.append({**{k: v for k, v in org.items() if k != "webhooks"},
                        "use": [f"{org['provider']}-set"], "vars": {"org": name}})
    return {**{k: v for k, v in flat.items() if k != "organizations"}, "webhook_sets": sets, "organizations": entries}


def load_comparison(tmp: Path, flat: dict[str, object], runs: int) -> None:
    """Manifest load and validation time per webhook, flat and written with sets (best of `runs`, so a busy
    moment of a shared machine does not decide); the two must declare the same webhooks."""
    total = 0
    figures = {}
    loaded = {}
    for form, doc in (("flat", flat), ("sets", fleet_manifest(flat))):
        path = tmp / f"{form}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        best = float("inf")
        for _ in range(runs):
            cpu = time.process_time()
            loaded[form] = load_manifests([str(path)])
            best = min(best, time.process_time() - cpu)
        total = sum(len(org.webhooks) for org in loaded[form].organizations)
        figures[form] = (best, path.stat().st_size // 1024)
    assert loaded["flat"].organizations == loaded["sets"].organizations, "the two forms must declare the same"
    for form, (best, size) in figures.items():
        print(f"manifest load + validation, {form:5}: {best:.3f} s for {total} webhooks "
              f"({best / total * 1e6:.1f} us per webhook; {size} KiB of YAML; best of {runs})")


def populate(sandbox: Sandbox, doc: dict[str, object], store: VaultStore) -> None:
    """Create every declared webhook straight through the API (no latency yet) and index it."""
    orgs = doc["organizations"]
    assert isinstance(orgs, list)
    client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)

    def one(org: dict[str, object]) -> None:
        index = {}
        hooks = org["webhooks"]
        assert isinstance(hooks, list)
        for hook in hooks:
            body = {"url": hook["url"], "events": hook["events"]}
            if org["provider"] == "infraaudit":
                body["name"] = hook["name"]
            reply = client.post(f"{org['base_url']}/api/v1/webhooks", json=body)
            reply.raise_for_status()
            index[hook["name"]] = IndexEntry(reply.json()["id"])
        store.write_index(str(org["name"]), index)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, orgs))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall time, exit code and the CPU seconds (user + system) the command used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, code, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def httpx_floor(doc: dict[str, object], parallelism: int) -> float:
    """Wall seconds for the plan's list requests alone, sent by bare httpx threads with nothing else to do: the
    least the network phase of a plan can take with httpx on this machine (a plan also reads the store and
    diffs, on the same interpreter)."""
    orgs = doc["organizations"]
    assert isinstance(orgs, list)
    urls = [f"{org['base_url']}/api/v1/webhooks" for org in orgs]
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        client.get(urls[0])  # connect first: the plan's own connections are counted in its figure, not here
        start = time.perf_counter()
        with ThreadPoolExecutor(parallelism) as pool:
            list(pool.map(lambda url: client.get(url).raise_for_status(), urls))
        return time.perf_counter() - start


def machine_speed() -> float:
    """CPU seconds for a fixed pure-Python loop, best of three: the machine's speed at the time of the run.
    Shared machines vary by a quarter or more from one hour to the next, and every figure here with them."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        sum(range(30_000_000))
        best = min(best, time.process_time() - start)
    return best


def apply_creates(sandbox: Sandbox, env: dict[str, str], tmp: Path, args: argparse.Namespace) -> None:
    """`--creates` new webhooks, `--webhooks` per org in new orgs, applied in one run (`--create-runs` times,
    each on orgs of its own), with the latency floor beside it.

    Floor: orgs / parallelism x latency x requests per org. An org sends one request per create (Ingate and
    InfraAudit return the secret in the create's answer) and two lists (the plan's and the check after
    apply). Store writes count in the wall, not in the floor: they are the overhead the target bounds."""
    orgs = max(1, args.creates // args.webhooks)
    py = [sys.executable, "-m", "reconciler"]
    startup = statistics.median(timed([*py, "--version"], env)[0] for _ in range(3))
    sandbox.set_faults(Faults(latency_ms=args.latency_ms, encrata_rate_limit=None))
    runs = []
    for run in range(args.create_runs):
        path = tmp / f"creates-{run}.yaml"
        path.write_text(yaml.safe_dump(manifest(sandbox, orgs, args.webhooks, f"new{run}-"), sort_keys=False))
        sandbox.clear_requests()
        wall, code, cpu_s = timed([*py, "apply", str(path), "--auto-approve", "--parallelism", str(args.parallelism)],
                                  env)
        runs.append((wall, code, cpu_s, len(sandbox.requests)))
    wall, code, cpu_s, requests = sorted(runs)[len(runs) // 2]  # the median run
    walls = sorted(run[0] for run in runs)
    creates = orgs * args.webhooks
    per_org = args.webhooks + 2
    floor = orgs / args.parallelism * args.latency_ms / 1000 * per_org
    print(f"apply of {creates} creates ({orgs} orgs x {args.webhooks}): exit {code}, {requests} requests "
          f"({orgs * per_org} needed), wall {wall:.2f} s (median of {len(runs)} runs: "
          f"{walls[0]:.2f}-{walls[-1]:.2f} s), CPU {cpu_s:.2f} s")
    print(f"  latency floor {floor:.2f} s = {orgs} orgs / parallelism {args.parallelism} x {args.latency_ms} ms x "
          f"{per_org} requests per org ({args.webhooks} creates + 2 lists); ratio wall / floor = {wall / floor:.2f} "
          f"(fastest run: {walls[0] / floor:.2f}); interpreter start-up {startup:.2f} s")
    bare = httpx_creates(sandbox, orgs, args.webhooks, args.parallelism)
    print(f"  the same {creates} creates from bare httpx threads (at most {args.parallelism} in flight, no store, "
          f"nothing else running): {bare:.2f} s = {bare / floor:.2f} x the floor")


def httpx_creates(sandbox: Sandbox, orgs: int, hooks: int, parallelism: int) -> float:
    """Wall seconds for the creates alone, sent by one thread per org through `parallelism` slots, by bare
    httpx on the same sandbox: what the API round trips cost on this machine before any store write."""
    slots = threading.BoundedSemaphore(parallelism)
    urls = [sandbox.base_url("ingate", account=f"bare{i:04d}") + "/api/v1/webhooks" for i in range(orgs)]
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        client.get(urls[0])

        def org(i: int) -> None:
            for j in range(hooks):
                with slots:
                    body = {"url": f"https://hooks.bench.example/bare{i}/{j}", "events": ["key.create"]}
                    client.post(urls[i], json=body).raise_for_status()

        start = time.perf_counter()
        with ThreadPoolExecutor(orgs) as pool:
            list(pool.map(org, range(orgs)))
        return time.perf_counter() - start


def scale_arguments(parser: argparse.ArgumentParser, *, orgs: int, webhooks: int = 50) -> None:
    """The scenario's size and speed, alike in every bench script."""
    parser.add_argument("--orgs", type=int, default=orgs)
    parser.add_argument("--webhooks", type=int, default=webhooks)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=8)


@contextlib.contextmanager
def sandbox_and_vault() -> Iterator[tuple[Sandbox, VaultServer, dict[str, str]]]:
    """A sandbox (no rate limit unless a scenario sets one) and a real OpenBao, with the environment a bench
    manifest reads (`BENCH_TOKEN`, `VAULT_ADDR`, `VAULT_TOKEN`), set in this process too; both stopped after."""
    vault = start_openbao()
    sandbox = Sandbox(port=0, token=TOKEN).start()
    try:
        sandbox.set_faults(Faults(encrata_rate_limit=None))
        env = {**os.environ, "BENCH_TOKEN": TOKEN, "VAULT_ADDR": vault.address, "VAULT_TOKEN": vault.root_token}
        os.environ.update(env)
        yield sandbox, vault, env
    finally:
        sandbox.stop()
        vault.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    scale_arguments(parser, orgs=200)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--create-runs", type=int, default=3, help="applies of --creates timed; the median is reported")
    parser.add_argument("--runs", type=int, default=5, help="no-op plans timed; the median is reported")
    parser.add_argument("--load-only", action="store_true", help="only compare loading the flat and sets forms")
    parser.add_argument("--creates-only", action="store_true", help="only the apply of --creates new webhooks")
    args = parser.parse_args()
    if args.load_only:
        sandbox = Sandbox(port=0, token=TOKEN).start()  # only for its base URLs: nothing is requested
        os.environ.update({"BENCH_TOKEN": TOKEN, "VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_TOKEN": "t"})
        try:
            with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
                load_comparison(Path(tmp), manifest(sandbox, args.orgs, args.webhooks, "org"), args.runs)
        finally:
            sandbox.stop()
        return 0

    with sandbox_and_vault() as (sandbox, vault, env), tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        store = VaultStore(StoreConfig("vault", "vault", address=vault.address, token=Secret(vault.root_token),
                                       path="bench"))
        # As installed: pip compiles the package's bytecode, but an editable install under
        # PYTHONDONTWRITEBYTECODE (set on CI machines) would compile every module on every run.
        compileall.compile_dir(ROOT / "reconciler", quiet=1)
        if args.creates_only:
            print(f"machine speed {machine_speed():.2f} s for sum(range(30M)) (lower is faster)")
            apply_creates(sandbox, env, Path(tmp), args)
            return 0
        doc = manifest(sandbox, args.orgs, args.webhooks, "org")
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        total = args.orgs * args.webhooks
        print(f"setup: {args.orgs} orgs x {args.webhooks} webhooks = {total} webhooks, "
              f"{path.stat().st_size // 1024} KiB of YAML; machine speed {machine_speed():.2f} s "
              "for sum(range(30M)) (lower is faster)")
        populate(sandbox, doc, store)

        py = [sys.executable, "-m", "reconciler"]
        startup = statistics.median(timed([*py, "--version"], env)[0] for _ in range(args.runs))
        sandbox.set_faults(Faults(latency_ms=args.latency_ms, encrata_rate_limit=None))
        runs = []
        for _ in range(args.runs):
            sandbox.clear_requests()
            runs.append(timed([*py, "plan", str(path), "--detailed-exitcode",
                               "--parallelism", str(args.parallelism)], env))
        requests = len(sandbox.requests)
        walls = sorted(wall for wall, _, _ in runs)
        wall, code, cpu_s = sorted(runs)[len(runs) // 2]  # the median run
        floor = args.orgs / args.parallelism * args.latency_ms / 1000
        print(f"no-op plan: exit {code}, {requests} requests for {args.orgs} orgs, wall {wall:.2f} s "
              f"(median of {len(runs)} runs: {walls[0]:.2f}-{walls[-1]:.2f} s)")
        print(f"  latency floor {floor:.2f} s (orgs / parallelism x {args.latency_ms} ms), interpreter "
              f"start-up {startup:.2f} s, ratio (wall - start-up) / floor = {(wall - startup) / floor:.2f} "
              f"(fastest run: {(walls[0] - startup) / floor:.2f}; a busy machine only adds time)")
        print(f"  the plan process used {cpu_s:.2f} s of CPU (one interpreter: the GIL serialises it)")
        bare = httpx_floor(doc, args.parallelism)
        print(f"  the same {args.orgs} list requests from bare httpx threads, nothing else running: {bare:.2f} s")

        cpu = time.process_time()
        manifest_obj = load_manifests([str(path)])
        load_cpu = time.process_time() - cpu
        sandbox.set_faults(Faults(encrata_rate_limit=None))
        session = Session(manifest_obj, read_only=True)
        _, states = plan_orgs(session, manifest_obj.organizations)
        cpu = time.process_time()
        for state in states.values():
            plan_org(state.org, state.caps, state.live, state.index)
        plan_cpu = time.process_time() - cpu
        print(f"planning CPU: {plan_cpu / total * 1000:.4f} s per 1,000 webhooks (diff only); "
              f"manifest load + validation {load_cpu / total * 1000:.4f} s per 1,000 webhooks")
        load_comparison(Path(tmp), doc, args.runs)

        apply_creates(sandbox, env, Path(tmp), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
