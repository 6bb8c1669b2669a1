"""Executes a plan: per org in parallel; within an org creates and updates first, deletes last.

Every secret an API returns is written to the store before the next API call; a create whose secret
cannot be stored is deleted again, so no webhook exists whose secret is lost.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reconciler.core.errors import ProviderError, ReconcilerError, SecretStoreError
from reconciler.core.model import DesiredWebhook, IndexEntry, LiveWebhook, SecretRecord
from reconciler.core.neutral import text
from reconciler.core.plan import Change, Create, Delete, Plan, Replace, Rotate, Update
from reconciler.core.planner import field_changes
from reconciler.core.secret import Secret
from reconciler.engine import recovery
from reconciler.engine.offslot import StoreOffSlot
from reconciler.engine.parallel import parallel_map
from reconciler.engine.reading import OrgState
from reconciler.engine.session import Session
from reconciler.runtime import slots
from reconciler.stores.base import SecretStore

log = logging.getLogger("reconciler.apply")

CREATE_ATTEMPTS = 3  # creates of one webhook whose outcome was unknown, each after a re-list


@dataclass(frozen=True)
class Outcome:
    change: Change
    ok: bool
    message: str
    # Never sent: the run was interrupted first, or a delete held back after an earlier change of its org failed.
    not_attempted: bool = False
    # Failed, yet may have taken effect: a write whose outcome is unknown, or a create that may have happened.
    may_have_changed: bool = False


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]
    interrupted: bool = False  # Ctrl-C or SIGTERM: running changes finished, the rest were not started

    @property
    def applied(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


# Threads per `--parallelism` slot in apply: enough for orgs to take the slots that rate-limited ones give back.
_WAITING_FACTOR = 4


# Creates whose index entries (the id in place of the pending mark) are written together. Each secret is still
# stored before the org's next API call; only the index lags, so a run killed meanwhile leaves at most this
# many stored webhooks marked pending, and the next apply gives those a new secret. An index write per create
# was 0.9 ms of this process's CPU and a third of OpenBao's: 1,000 creates 5.8 -> 4.9 s (bench/README.md).
INDEX_BATCH = 10
# Why a change did not start (contract §5.1): its org's lock may be another run's now.
LOCK_GONE = "this run's lock on the org lapsed or another run took it over"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_plan(session: Session, plan: Plan, states: dict[str, OrgState]) -> ApplyReport:
    work = [(o.changes, OrgApplier(session, states[o.org])) for o in plan.orgs if o.changes and o.org in states]
    interrupted = False
    # `parallelism` orgs at work at once; more threads than that, so that while an org waits for its own rate
    # limit (its slot given back, reconciler/runtime/slots.py) another org takes the slot (contract §7.1).
    at_work = threading.BoundedSemaphore(max(1, session.parallelism))

    def run(pair: tuple[tuple[Change, ...], OrgApplier]) -> None:
        with slots.holding(at_work):
            pair[1].run(pair[0])

    threads = max(session.parallelism, min(len(work), _WAITING_FACTOR * session.parallelism))
    try:
        parallel_map(run, work, threads, stop=session.interrupted)
    except KeyboardInterrupt:
        interrupted = True  # parallel_map let every running org finish its current change first
    outcomes: list[Outcome] = []
    for changes, applier in work:
        # An interrupted run may leave a worker on a change whose answer outlasted the grace: read what it
        # is on before what it finished (it records a change's outcome, then moves on), so that no change
        # is counted twice or reported as never started when it was.
        underway = applier.underway
        done = list(applier.outcomes)
        rest = changes[len(done) :]
        if rest and underway is rest[0]:
            outcomes += [*done, cut_short(underway)]
            rest = rest[1:]
        else:
            outcomes += done
        outcomes += [not_started(c) for c in rest]
    return ApplyReport(tuple(outcomes), interrupted)


def not_started(change: Change) -> Outcome:
    return Outcome(change, False, "not attempted: interrupted", not_attempted=True)


def cut_short(change: Change) -> Outcome:
    message = "interrupted while under way; it may or may not have taken effect (plan again to see)"
    return Outcome(change, False, message, may_have_changed=True)


class OrgApplier:
    def __init__(self, session: Session, state: OrgState) -> None:
        self.session = session
        self.state = state
        self.org = state.org
        self.caps = state.caps
        self.provider = session.provider(state.org)
        self.store: SecretStore = StoreOffSlot(session.store(state.org))  # I/O gives the slot back meanwhile
        self.index = dict(state.index)
        self.saved = dict(state.index)  # the index as this run last wrote it (see save_index)
        self.outcomes: list[Outcome] = []  # filled as changes finish, so an interrupted run still reports
        self.underway: Change | None = None  # the change being executed, for a run interrupted meanwhile
        self.unsure: set[str] = set()  # webhooks whose create may have happened unseen
        self.undone = False  # the current change's create was deleted again after its secret could not be kept
        self.unindexed = 0  # creates whose secret is stored but whose index entry is not written yet

    def run(self, changes: tuple[Change, ...]) -> list[Outcome]:
        try:
            marked = self.mark_pending(changes)
        except ReconcilerError as exc:
            self.outcomes = [Outcome(c, False, f"not attempted: {exc}", not_attempted=True) for c in changes]
            return self.outcomes
        failed = False
        settled: set[str] = set()  # marks to take back: the change never reached the provider
        for change in changes:
            if self.session.interrupted.is_set():
                settled.add(change.webhook)
                self.outcomes.append(not_started(change))
                continue
            if self.session.lock_lost(self.org.name):
                settled.add(change.webhook)
                self.outcomes.append(
                    Outcome(change, False, f"not attempted: {LOCK_GONE}", not_attempted=True)
                )
                continue
            if isinstance(change, Delete) and failed:
                self.outcomes.append(
                    Outcome(change, False, "held back: an earlier change of this org failed", not_attempted=True)
                )
                continue
            writes_before, self.undone = self.provider.writes_done, False
            self.underway = change
            try:
                self.outcomes.append(Outcome(change, True, self.execute(change)))
            except ReconcilerError as exc:
                failed = True
                # A step of the change took effect (a create before its follow-up update failed, say), or one
                # may have: the report must not say that nothing changed.
                wrote = self.provider.writes_done > writes_before and not self.undone
                unknown = isinstance(exc, ProviderError) and exc.outcome_unknown
                maybe = wrote or unknown or change.webhook in self.unsure
                if isinstance(change, Create) and not maybe:
                    settled.add(change.webhook)
                self.outcomes.append(Outcome(change, False, str(exc), may_have_changed=maybe))
            self.underway = None
        self.unmark({name: entry for name, entry in marked.items() if name in settled})
        self.flush_index()
        return self.outcomes

    def save_index(self) -> None:
        """Write the org's index. While this run holds the org's lock (contract §5.1) the index is its own. Once
        another run may have taken the lock over (this run stood still past the lease), the index in the store
        may be that run's: this run's changes since its last write are applied to it only where the store still
        holds what this run wrote, or nothing (a webhook it created); an entry the other run wrote stays."""
        if self.session.lock_lost(self.org.name):
            merged = self.store.read_index(self.org.name) or {}
            for name in self.saved.keys() | self.index.keys():
                before, now, current = self.saved.get(name), self.index.get(name), merged.get(name)
                if before == now:
                    continue
                if current != before and not (current is None and now is not None):
                    log.warning("%s: the index entry of %s is the other run's now; kept", self.org.name, name)
                elif now is None:
                    merged.pop(name, None)
                else:
                    merged[name] = now
            self.store.write_index(self.org.name, merged)
        else:
            self.store.write_index(self.org.name, self.index)
        self.saved = dict(self.index)

    def flush_index(self) -> None:
        """Write the index entries batched by `keep_secret`. Like `unmark`, a failure is logged, not raised:
        the secrets are stored, and an entry left pending only costs a needless new secret."""
        if not self.unindexed:
            return
        try:
            self.save_index()
        except ReconcilerError as exc:
            log.warning("%s: could not record %d new webhook(s) in the index: %s", self.org.name, self.unindexed, exc)
        self.unindexed = 0

    def mark_pending(self, changes: tuple[Change, ...]) -> dict[str, IndexEntry | None]:
        """Mark every webhook whose secret this run sets as pending in the index, in one write, before
        anything is sent. If the run is killed between a provider's answer and the store write, the next
        plan sees the mark and sets a new secret rather than trust one nobody stored. Returns what the
        marked entries were before."""
        before: dict[str, IndexEntry | None] = {}
        for change in changes:
            if isinstance(change, Create | Replace | Rotate):  # the changes that set a secret
                old = self.index.get(change.webhook)
                before[change.webhook] = old
                protect = old.protect if old is not None else change.desired.protect
                self.index[change.webhook] = IndexEntry(change.webhook_id or "", protect, pending=True)
        if before:
            self.session.preflight(self.org)  # the store must be proven before the first write to it
            self.save_index()
        return before

    def unmark(self, restore: dict[str, IndexEntry | None]) -> None:
        """Take back the marks of changes that never reached the provider. A mark left behind only costs a
        needless new secret, so a failure here is logged, not raised."""
        changed = False
        for name, old in restore.items():
            if not (current := self.index.get(name)) or not current.pending:
                continue  # the change finished after all (e.g. a create that failed after its secret was kept)
            changed = True
            if old is None:
                del self.index[name]
            else:
                self.index[name] = old
        if not changed:
            return
        try:
            self.save_index()
        except ReconcilerError as exc:
            log.warning("%s: could not clear pending marks in the index: %s", self.org.name, exc)

    def execute(self, change: Change) -> str:
        match change:  # the subclasses of Update (Rotate, Replace) before it
            case Create():
                return self.create(change.desired)
            case Rotate():  # an update that also sets a new secret in place
                message, live = self.update(change)
                return message + "; " + self.rotate(change.desired, live)
            case Replace():
                return self.recreate(change.desired, change.live, change.renamed_from)
            case Update():  # and Rename
                return self.update(change)[0]
            case Delete():
                return self.delete(change.live.id)
        raise ReconcilerError(f"unsupported change {change.kind}")

    # -- create ---------------------------------------------------------------------------------

    def create(self, hook: DesiredWebhook, *, rotation: bool = False) -> str:
        """`rotation`: the webhook is made anew to give it a new secret; its record says when (`rotated_at`)."""
        self.session.preflight(self.org)
        supplied: Secret | None = None
        if self.caps.client_secret == "required":
            # Secret first: stored before it is sent, so a crash can never leave it only at the provider.
            supplied = Secret.generate()
            self.store.write(self.org.name, hook.name, self.record(hook, supplied, webhook_id="", rotation=rotation))
        try:
            live, secret = self.create_once(hook, supplied)
        except ProviderError:
            if supplied is not None and hook.name not in self.unsure:
                self.store.delete(self.org.name, hook.name)
            raise
        self.keep_secret(hook, live, secret, rotation=rotation)
        if field_changes(hook, live, self.caps):
            # Some APIs ignore fields on create (a paused webhook on Ingate, Encrata): set them now,
            # after the secret is safe.
            self.provider.update(live, hook)
        return f"created {text(live.id)}; secret stored in {self.store.location(self.org.name, hook.name)}"

    def create_once(self, hook: DesiredWebhook, supplied: Secret | None) -> tuple[LiveWebhook, Secret]:
        """Create exactly one webhook. When a create's outcome is unknown (a 5xx or a lost connection after
        sending), re-list before deciding: never blindly repeat. An orphan whose secret we never saw is
        rotated in place where the API can, otherwise deleted before the next try."""
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                return self.provider.create(hook, supplied)
            except ProviderError as exc:
                if not exc.outcome_unknown:
                    raise
                self.unsure.add(hook.name)
                if attempt == CREATE_ATTEMPTS:
                    raise
            orphan = self.find_orphan(hook)
            if orphan is None:
                continue  # it did not happen: trying again cannot duplicate it
            where = f"{self.org.name}/{hook.name}: create outcome was unknown"
            if supplied is not None:
                log.warning("%s; it happened, with the secret sent", where)
                return orphan, supplied  # we sent the secret ourselves, so it is known
            if self.caps.rotate_in_place:
                log.warning("%s; rotating the orphan's secret", where)
                return orphan, self.provider.rotate(orphan, None)
            log.warning("%s; deleting the orphan to create again", where)
            self.provider.delete(orphan.id)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def find_orphan(self, hook: DesiredWebhook) -> LiveWebhook | None:
        known = {w.id for w in self.state.live}
        fresh = [w for w in self.provider.list() if w.id not in known and self.same_webhook(w, hook)]
        return fresh[0] if fresh else None

    def same_webhook(self, live: LiveWebhook, hook: DesiredWebhook) -> bool:
        if self.caps.label_field and live.label is not None:
            return live.label == hook.name
        return live.url == hook.url

    def keep_secret(self, hook: DesiredWebhook, live: LiveWebhook, secret: Secret, *, rotation: bool = False) -> None:
        record = self.record(hook, secret, webhook_id=live.id, rotation=rotation)
        try:
            self.store.write(self.org.name, hook.name, record)
        except SecretStoreError as exc:
            # Never leave a webhook whose secret is lost: undo the create, or keep the secret aside.
            try:
                self.provider.delete(live.id)
            except ReconcilerError:
                failure = f"{exc}; the new webhook {text(live.id)} could not be deleted again"
                path = self.keep_aside(hook.name, record, failure)
                raise SecretStoreError(
                    f"{failure}, so its secret was saved to {path} (mode 0600); the next apply stores it and "
                    "removes the file"
                ) from None
            self.undone = True
            raise SecretStoreError(f"{exc}; the new webhook {text(live.id)} was deleted again") from None
        self.index[hook.name] = IndexEntry(live.id, hook.protect)
        self.unindexed += 1
        # A re-created webhook's entry is written at once: its mark still names the old webhook, deleted next.
        if rotation or self.unindexed >= INDEX_BATCH:
            self.save_index()
            self.unindexed = 0

    def store_rotated(self, name: str, record: SecretRecord) -> None:
        """The provider already uses the new secret: store it, or keep it aside where only the user reads it."""
        try:
            self.store.write(self.org.name, name, record)
        except SecretStoreError as exc:
            path = self.keep_aside(name, record, str(exc))
            raise SecretStoreError(
                f"{exc}; the rotated secret was saved to {path} (mode 0600); the next apply stores it"
            ) from None

    def keep_aside(self, name: str, record: SecretRecord, failure: str) -> Path:
        """Keep a secret the store refused in a recovery file; when even that fails, one error says both."""
        try:
            return recovery.keep(self.org.name, name, record)
        except recovery.RecoveryError as exc:
            raise SecretStoreError(f"{failure}. {exc}") from None

    def record(
        self, hook: DesiredWebhook, secret: Secret, *, webhook_id: str, rotation: bool = False
    ) -> SecretRecord:
        stamp = now()
        return SecretRecord(
            secret, webhook_id, self.org.provider, hook.url, stamp, stamp if rotation else None, hook.protect
        )

    # -- update ---------------------------------------------------------------------------------

    def update(self, change: Update) -> tuple[str, LiveWebhook]:
        """The API's fields (if any changed), then the store's record and index under the declared name (a
        rename moves them there, and `protect` lives only in the store). Returns the webhook as it is now."""
        hook, live = change.desired, change.live
        if change.fields:
            live = self.provider.update(live, hook)
        old_name = change.renamed_from or hook.name
        record = self.store.read(self.org.name, old_name)
        if record is not None and record.webhook_id == live.id:
            moved = dataclasses.replace(record, url=live.url, protect=hook.protect)
            if moved != record or old_name != hook.name:
                self.store.write(self.org.name, hook.name, moved)
        self.index.pop(old_name, None)
        self.index[hook.name] = IndexEntry(live.id, hook.protect)
        self.save_index()
        if old_name == hook.name:
            return f"updated {text(live.id)}", live
        self.store.delete(self.org.name, old_name)
        return f"renamed from {old_name}; secret moved to {self.store.location(self.org.name, hook.name)}", live

    # -- rotate ---------------------------------------------------------------------------------

    def rotate(self, hook: DesiredWebhook, live: LiveWebhook, renamed_from: str | None = None) -> str:
        """A new secret in place (Keeptrusts `rotate-secret`, Immuta's `signingKey`): same id, new secret stored
        under the declared name (`renamed_from`: the earlier name its records are under, dropped after)."""
        self.session.preflight(self.org)
        old = self.store.read(self.org.name, hook.name)
        first = self.store.read(self.org.name, renamed_from) if renamed_from and renamed_from != hook.name else old
        stamp = now()
        created = first.created_at if first is not None and first.webhook_id == live.id else stamp
        where = self.store.location(self.org.name, hook.name)

        def record(secret: Secret) -> SecretRecord:
            return SecretRecord(secret, live.id, self.org.provider, live.url, created, stamp, hook.protect)

        if self.caps.client_secret == "required":
            # Secret first: the new secret is stored before the provider starts using it.
            new = Secret.generate()
            self.store.write(self.org.name, hook.name, record(new))
            try:
                self.provider.rotate(live, new)
            except ProviderError as exc:
                if exc.outcome_unknown:
                    # Sending the same key again is harmless, so the stored new key is the one to keep.
                    raise ProviderError(
                        f"{exc}; the provider may or may not use the new secret, which is stored in {where}: "
                        "run rotate again to be sure",
                        exc.status,
                        outcome_unknown=True,
                    ) from None
                self.restore(hook.name, old)
                raise ProviderError(f"{exc}; the secret was not rotated, the old one is kept", exc.status) from None
        else:
            self.store_rotated(hook.name, record(self.provider.rotate(live, None)))
        self.index[hook.name] = IndexEntry(live.id, hook.protect)
        self.save_index()
        self.forget_earlier_name(renamed_from, hook.name)
        return f"secret rotated in place (id {text(live.id)}); stored in {where}"

    def restore(self, name: str, old: SecretRecord | None) -> None:
        """Put back the record a failed rotation replaced; if even that fails, keep it where only the user reads it."""
        try:
            if old is None:
                self.store.delete(self.org.name, name)
            else:
                self.store.write(self.org.name, name, old)
        except SecretStoreError as exc:
            if old is None:
                raise
            path = self.keep_aside(name, old, str(exc))
            raise SecretStoreError(
                f"{exc}; the secret still in force was saved to {path} (mode 0600); the next apply stores it"
            ) from None

    def recreate(self, hook: DesiredWebhook, live: LiveWebhook, renamed_from: str | None = None) -> str:
        """A new secret where the API cannot rotate in place: a new webhook (new id), then the old one goes."""
        try:
            created = self.create(hook, rotation=True)
        except ProviderError as exc:
            if exc.status != 409:
                raise
            # The API refuses two webhooks with one URL (Encrata): the old one has to go first.
            self.provider.delete(live.id)
            created = self.create(hook, rotation=True)
        else:
            self.provider.delete(live.id)
        self.forget_earlier_name(renamed_from, hook.name)
        return f"re-created with a new secret, old webhook {text(live.id)} deleted; {created}"

    def forget_earlier_name(self, earlier: str | None, name: str) -> None:
        """The new secret is stored under `name`: the record and index entry under an earlier name hold a
        secret no webhook uses any more."""
        if earlier and earlier != name:
            self.store.delete(self.org.name, earlier)
            self.index.pop(earlier, None)
            self.save_index()

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, webhook_id: str) -> str:
        self.provider.delete(webhook_id)
        for name, entry in list(self.index.items()):
            if entry.webhook_id == webhook_id:
                self.store.delete(self.org.name, name)
                del self.index[name]
                self.save_index()
        return f"deleted {text(webhook_id)}"
