"""Reads live state and store indexes for many orgs in parallel, and plans them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.errors import ReconcilerError
from reconciler.model import IndexEntry, LiveWebhook, Manifest, Organization, SecretAge
from reconciler.plan import OrgPlan, Plan
from reconciler.planner import plan_org
from reconciler.providers.base import Provider
from reconciler.providers.capabilities import CAPABILITIES, Capabilities
from reconciler.rotation import secrets_due
from reconciler.stores.base import SecretStore

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PARALLELISM = 8


def parallel_map(
    fn: Callable[[T], R], items: Sequence[T], parallelism: int, *, stop: threading.Event | None = None
) -> list[R]:
    """fn over items on a thread pool, results in input order.

    Always on worker threads, even one at a time: Ctrl-C then lands in the waiting main thread, never
    between a provider's answer and the store write. On Ctrl-C nothing new starts, `stop` is set so
    running work can end after its current step, and the KeyboardInterrupt is re-raised once it has."""
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(items))))
    futures = [pool.submit(fn, item) for item in items]
    try:
        return [future.result() for future in futures]
    except BaseException:
        if stop is not None:
            stop.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True)


@dataclass
class Session:
    """Opens each org's provider client and each secret store once per run."""

    manifest: Manifest
    read_only: bool
    parallelism: int = DEFAULT_PARALLELISM
    _stores: dict[str, SecretStore] = field(default_factory=dict)
    _checked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    interrupted: threading.Event = field(default_factory=threading.Event)  # set on Ctrl-C: start nothing new
    # At most `parallelism` orgs' list requests in flight. Reading a store index and diffing need no API,
    # so they hold no slot: see plan_orgs.
    list_slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.list_slots = threading.BoundedSemaphore(max(1, self.parallelism))

    def provider(self, org: Organization) -> Provider:
        from reconciler.providers import open_provider

        return open_provider(org.provider, org.base_url, org.token, read_only=self.read_only)

    def store(self, org: Organization) -> SecretStore:
        with self._lock:
            if org.secret_store not in self._stores:
                from reconciler.stores import open_store

                self._stores[org.secret_store] = open_store(self.manifest.store(org.secret_store))
            return self._stores[org.secret_store]

    def preflight(self, org: Organization) -> None:
        """SPEC §5: prove the store keeps secrets before the first create that needs it."""
        store = self.store(org)
        with self._lock:
            if store.name in self._checked:
                return
            store.preflight()
            self._checked.add(store.name)


@dataclass(frozen=True)
class OrgState:
    """What planning saw of one org; the applier starts from it."""

    org: Organization
    caps: Capabilities
    live: tuple[LiveWebhook, ...]
    index: dict[str, IndexEntry]
    rotation_due: dict[str, SecretAge] = field(default_factory=dict)  # webhooks past their `rotate_after`
    index_rebuilt: bool = False  # the index record was missing or unreadable: rebuilt from the records
    index_complete: bool = True  # False: rebuilt from the declared webhooks' records only (see load_index)


@dataclass(frozen=True)
class IndexLoad:
    entries: dict[str, IndexEntry]
    rebuilt: bool = False
    complete: bool = True


def load_index(store: SecretStore, org: Organization) -> IndexLoad:
    """The org's index record; when it is missing or unreadable, rebuilt from the per-webhook records (SPEC §5):
    every record the store can list, else those of the declared webhooks and their earlier names. Only a full
    list can show that a webhook no longer declared was protected (`complete`); where the store cannot list
    (keyrings other than the Secret Service), an org with records but no index is not `complete`."""
    index = store.read_index(org.name)
    if index is not None:
        return IndexLoad(index)
    declared = [name for hook in org.webhooks for name in (hook.name, *hook.previously)]
    rebuilt = _entries(store, org, declared)
    if not rebuilt:
        # No record: an org this tool has not applied yet (the common case on a first apply, where listing
        # a whole keyring per org would be slow), with nothing to rewrite and nothing protected.
        return IndexLoad(rebuilt)
    listed = store.names(org.name)
    rebuilt |= _entries(store, org, [name for name in listed or () if name not in rebuilt])
    return IndexLoad(rebuilt, rebuilt=True, complete=listed is not None)


def _entries(store: SecretStore, org: Organization, names: Iterable[str]) -> dict[str, IndexEntry]:
    """Index entries from the records under `names` that exist and name a webhook."""
    entries: dict[str, IndexEntry] = {}
    for name in dict.fromkeys(names):
        record = store.read(org.name, name)
        if record is not None and record.webhook_id:
            entries[name] = IndexEntry(record.webhook_id, record.protect)
    return entries


def read_org(session: Session, org: Organization) -> OrgState:
    provider = session.provider(org)
    with session.list_slots:
        live = provider.list()
    store = session.store(org)
    index = load_index(store, org)
    due = secrets_due(store, org)
    return OrgState(
        org, CAPABILITIES[org.provider], tuple(live), index.entries, due, index.rebuilt, index.complete
    )


def plan_orgs(session: Session, orgs: Iterable[Organization]) -> tuple[Plan, dict[str, OrgState]]:
    def one(org: Organization) -> tuple[OrgPlan, OrgState | None]:
        try:
            state = read_org(session, org)
        except ReconcilerError as exc:
            return OrgPlan(org.name, org.provider, error=f"could not read: {exc}"), None
        return plan_org(org, state.caps, state.live, state.index, state.rotation_due, state.index_complete), state

    # Twice the workers as list slots: while some orgs read their index and diff, others take their slots,
    # so the APIs see `parallelism` requests at once all along instead of a dip after every answer.
    results = parallel_map(one, list(orgs), 2 * session.parallelism)
    states = {state.org.name: state for _, state in results if state is not None}
    manifest = session.manifest
    return Plan(manifest.paths, manifest.digest, tuple(p for p, _ in results)), states


def select_orgs(manifest: Manifest, names: Sequence[str] | None) -> list[Organization]:
    """The orgs to work on: all, or those named with --org (an unknown name is an error)."""
    if not names:
        return list(manifest.organizations)
    known = {o.name for o in manifest.organizations}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ReconcilerError(f"unknown organization(s): {', '.join(unknown)}")
    return [o for o in manifest.organizations if o.name in set(names)]
