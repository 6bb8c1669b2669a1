"""One run's session: each org's provider client and each secret store opened once, and the org locks."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Manifest, Organization
from reconciler.engine.parallel import parallel_map
from reconciler.providers.base import Provider
from reconciler.runtime.locking import DEFAULT_TIMEOUT, Holder, OrgLock, Renewer, acquire, took_over
from reconciler.stores.base import SecretStore

DEFAULT_PARALLELISM = 8


@dataclass
class Session:
    """Opens each org's provider client and each secret store once per run."""

    manifest: Manifest
    read_only: bool
    parallelism: int = DEFAULT_PARALLELISM
    _stores: dict[str, SecretStore] = field(default_factory=dict)
    _providers: dict[str, Provider] = field(default_factory=dict)
    _checked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    interrupted: threading.Event = field(default_factory=threading.Event)  # set on Ctrl-C: start nothing new
    lock_timeout: float = DEFAULT_TIMEOUT  # how long to wait for an org another run has locked (contract §5.1)
    me: Holder = field(default_factory=Holder.this_run)  # this run, as its locks name it
    _locks: dict[str, OrgLock] = field(default_factory=dict)  # the orgs this run holds
    _renewer: Renewer = field(default_factory=lambda: Renewer())
    # At most `parallelism` orgs' list requests in flight. Reading a store index and diffing need no API,
    # so they hold no slot: see plan_orgs.
    list_slots: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.list_slots = threading.BoundedSemaphore(max(1, self.parallelism))

    def provider(self, org: Organization) -> Provider:
        with self._lock:
            if org.name not in self._providers:
                from reconciler.plugins import open_provider

                opened = open_provider(org.provider, org.base_url, org.token, read_only=self.read_only)
                self._providers[org.name] = opened
            return self._providers[org.name]

    def store(self, org: Organization) -> SecretStore:
        with self._lock:
            if org.secret_store not in self._stores:
                from reconciler.plugins import open_store

                self._stores[org.secret_store] = open_store(self.manifest.store(org.secret_store))
            return self._stores[org.secret_store]

    def lock_orgs(self, orgs: Sequence[Organization]) -> dict[str, str]:
        """contract §5.1: take each org's lock before its first write, held until `close`. Returns the orgs left
        locked by another run (or whose lock could not be taken), with why.

        First every lock is tried at once, without waiting. If one is busy, all are let go and taken again
        one by one in name order, waiting for each: two runs that only ever wait in the same order cannot
        wait for each other in a circle, while trying everything at once costs no time when nobody else runs."""
        locks = {org.name: self.store(org).org_lock(org.name, self.me) for org in orgs}
        names = list(locks)
        tried = parallel_map(lambda name: self._try_lock(name, locks[name]), names, 2 * self.parallelism,
                             stop=self.interrupted)
        if all(tried):
            return {}
        self.release_locks()
        failed: dict[str, str] = {}
        deadline = time.monotonic() + self.lock_timeout  # one wait for the run, not one per locked org
        for name in sorted(names):
            try:
                acquire(locks[name], name, deadline, self.lock_timeout, self.interrupted)
            except ReconcilerError as exc:
                failed[name] = str(exc)
                continue
            self._hold(name, locks[name])
        return failed

    def _try_lock(self, name: str, lock: OrgLock) -> bool:
        try:
            attempt = lock.try_acquire()
        except ReconcilerError:
            return False  # the one-by-one pass reports it
        if attempt.acquired:
            took_over(name, attempt)
            self._hold(name, lock)
        return attempt.acquired

    def _hold(self, name: str, lock: OrgLock) -> None:
        with self._lock:
            self._locks[name] = lock
        if lock.renews:
            self._renewer.add(name, lock)

    def lock_lost(self, org: str) -> bool:
        """The org's lock expired and another run took it over, or may have: start no new change there."""
        return self._renewer.may_be_lost(org)

    def release_locks(self) -> None:
        """Let go of every lock this run holds (also after a failure or Ctrl-C)."""
        self._renewer.close()
        self._renewer = Renewer()
        with self._lock:
            held, self._locks = list(self._locks.values()), {}
        parallel_map(lambda lock: lock.release(), held, 2 * self.parallelism)

    def preflight(self, org: Organization) -> None:
        """contract §5: prove the store keeps secrets before the first create that needs it."""
        store = self.store(org)
        with self._lock:
            if store.name in self._checked:
                return
            store.preflight()
            self._checked.add(store.name)
