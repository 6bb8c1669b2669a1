"""`StoreOffSlot`: a secret store's I/O in apply gives the `--parallelism` slot to another org meanwhile, and
takes it again before the org's next API call."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from reconciler.core.model import IndexEntry, SecretRecord
from reconciler.engine.offslot import StoreOffSlot
from reconciler.runtime import slots
from reconciler.runtime.locking import Holder, OrgLock
from reconciler.stores.base import SecretStore
from reconciler.stores.file_lock import FileLock
from tests.stores.records import record


class SlowStore:
    """A secret store whose `write` waits (I/O) until another org's work ran; `location` is pure."""

    name = "slow"

    def __init__(self, at_work: threading.BoundedSemaphore) -> None:
        self.at_work = at_work
        self.writing = threading.Event()
        self.other_ran = threading.Event()
        self.free_during_location: bool | None = None
        self.records: dict[tuple[str, str], SecretRecord] = {}

    def preflight(self) -> None:
        pass

    def read(self, org: str, webhook: str) -> SecretRecord | None:
        return self.records.get((org, webhook))

    def write(self, org: str, webhook: str, record: SecretRecord) -> None:
        self.writing.set()
        assert self.other_ran.wait(10), "the slot was not free while the store wrote"
        self.records[org, webhook] = record

    def delete(self, org: str, webhook: str) -> None:
        self.records.pop((org, webhook), None)

    def read_index(self, org: str) -> dict[str, IndexEntry] | None:
        return None

    def write_index(self, org: str, index: Mapping[str, IndexEntry]) -> None:
        pass

    def names(self, org: str) -> list[str] | None:
        return None

    def location(self, org: str, webhook: str) -> str:
        self.free_during_location = self.at_work.acquire(blocking=False)
        if self.free_during_location:
            self.at_work.release()
        return "somewhere"

    def org_lock(self, org: str, me: Holder) -> OrgLock:
        return FileLock(self.name, org, me)


def test_store_io_gives_the_slot_back_and_takes_it_again() -> None:
    at_work = threading.BoundedSemaphore(1)
    store = SlowStore(at_work)
    wrapped: SecretStore = StoreOffSlot(store)
    results: list[object] = []

    def applying() -> None:
        with slots.holding(at_work):
            wrapped.write("acme", "a", record())
            results.append(wrapped.read("acme", "a"))
            assert not at_work.acquire(blocking=False)  # the slot is held again before the next API call
            results.append(wrapped.location("acme", "a"))

    def other_org() -> None:
        assert store.writing.wait(10)  # only then: the one slot is the writer's unless it gave it back
        with slots.holding(at_work):
            store.other_ran.set()

    threads = [threading.Thread(target=applying), threading.Thread(target=other_org)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [record(), "somewhere"]
    assert store.free_during_location is False  # only I/O gives the slot back


def test_outside_a_slot_the_methods_just_run() -> None:
    store = SlowStore(threading.BoundedSemaphore(1))
    store.other_ran.set()
    StoreOffSlot(store).write("acme", "a", record())
    assert store.records == {("acme", "a"): record()}
