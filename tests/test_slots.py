"""`slots.releasing`: a secret store's I/O in apply gives the `--parallelism` slot to another org meanwhile."""

from __future__ import annotations

import threading

from reconciler.runtime import slots


class Store:
    """Stands for a secret store: `write` waits (I/O) until another org's work ran; `location` is pure."""

    def __init__(self, at_work: threading.BoundedSemaphore) -> None:
        self.at_work = at_work
        self.writing = threading.Event()
        self.other_ran = threading.Event()
        self.free_during_location: bool | None = None

    def write(self, value: str) -> str:
        self.writing.set()
        assert self.other_ran.wait(10), "the slot was not free while the store wrote"
        return value

    def location(self) -> str:
        self.free_during_location = self.at_work.acquire(blocking=False)
        if self.free_during_location:
            self.at_work.release()
        return "somewhere"


def test_store_io_gives_the_slot_back_and_takes_it_again() -> None:
    at_work = threading.BoundedSemaphore(1)
    store = Store(at_work)
    wrapped = slots.releasing(store, ("write",))
    results: list[str] = []

    def applying() -> None:
        with slots.holding(at_work):
            results.append(wrapped.write("kept"))
            assert not at_work.acquire(blocking=False)  # the slot is held again before the next API call
            results.append(wrapped.location())

    def other_org() -> None:
        assert store.writing.wait(10)  # only then: the one slot is the writer's unless it gave it back
        with slots.holding(at_work):
            store.other_ran.set()

    threads = [threading.Thread(target=applying), threading.Thread(target=other_org)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == ["kept", "somewhere"]
    assert store.free_during_location is False  # only the named methods give the slot back


def test_outside_a_slot_the_methods_just_run() -> None:
    store = Store(threading.BoundedSemaphore(1))
    store.other_ran.set()
    assert slots.releasing(store, ("write",)).write("x") == "x"
