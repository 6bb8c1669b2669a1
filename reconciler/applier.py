"""Executes a plan: per org in parallel; within an org creates and updates first, deletes last.

Every secret an API returns is written to the store before the next API call; a create whose secret
cannot be stored is deleted again, so no webhook exists whose secret is lost.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler import recovery
from reconciler.engine import OrgState, Session, parallel_map
from reconciler.errors import ProviderError, ReconcilerError, SecretStoreError
from reconciler.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization, SecretRecord
from reconciler.plan import Change, Plan
from reconciler.planner import field_changes
from reconciler.secret import Secret

log = logging.getLogger("reconciler.apply")


@dataclass(frozen=True)
class Outcome:
    change: Change
    ok: bool
    message: str
    held_back: bool = False  # a delete not attempted because an earlier change of its org failed


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...]

    @property
    def applied(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply_plan(session: Session, plan: Plan, states: dict[str, OrgState]) -> ApplyReport:
    work = [(o, states[o.org]) for o in plan.orgs if o.changes and o.org in states]
    results = parallel_map(lambda pair: OrgApplier(session, pair[1]).run(pair[0].changes), work, session.parallelism)
    return ApplyReport(tuple(o for outcomes in results for o in outcomes))


class OrgApplier:
    def __init__(self, session: Session, state: OrgState) -> None:
        self.session = session
        self.state = state
        self.org = state.org
        self.caps = state.caps
        self.provider = session.provider(state.org)
        self.store = session.store(state.org)
        self.index = dict(state.index)

    def run(self, changes: tuple[Change, ...]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        failed = False
        for change in changes:
            if change.action == "delete" and failed:
                outcomes.append(
                    Outcome(change, False, "held back: an earlier change of this org failed", held_back=True)
                )
                continue
            try:
                outcomes.append(Outcome(change, True, self.execute(change)))
            except ReconcilerError as exc:
                failed = True
                outcomes.append(Outcome(change, False, str(exc)))
        return outcomes

    def execute(self, change: Change) -> str:
        if change.action == "create":
            assert change.desired is not None
            return self.create(change.desired)
        if change.action == "update":
            assert change.desired is not None and change.live is not None
            return self.update(change, change.desired, change.live)
        if change.action == "delete":
            assert change.webhook_id is not None
            return self.delete(change.webhook_id)
        raise ReconcilerError(f"unsupported action {change.action}")

    # -- create ---------------------------------------------------------------------------------

    def create(self, hook: DesiredWebhook) -> str:
        self.session.preflight(self.org)
        supplied: Secret | None = None
        if self.caps.client_secret == "required":
            # Secret first: stored before it is sent, so a crash can never leave it only at the provider.
            supplied = Secret.generate()
            self.store.write(self.org.name, hook.name, self.record(hook, supplied, webhook_id=""))
        try:
            live, secret = self.provider.create(hook, supplied)
        except ProviderError as exc:
            if not exc.outcome_unknown:
                if supplied is not None:
                    self.store.delete(self.org.name, hook.name)
                raise
            live, secret = self.recover_unknown_create(hook, supplied)
        self.keep_secret(hook, live, secret)
        if field_changes(hook, live, self.caps):
            # Some APIs ignore fields on create (a paused webhook on Ingate, Encrata): set them now,
            # after the secret is safe.
            self.provider.update(live, hook)
        return f"created {live.id}; secret stored in {self.store.location(self.org.name, hook.name)}"

    def recover_unknown_create(self, hook: DesiredWebhook, supplied: Secret | None) -> tuple[LiveWebhook, Secret]:
        """The create may or may not have happened: re-list before deciding, never blindly repeat."""
        known = {w.id for w in self.state.live}
        fresh = [w for w in self.provider.list() if w.id not in known and self.same_webhook(w, hook)]
        if not fresh:
            return self.provider.create(hook, supplied)
        orphan = fresh[0]
        if supplied is not None:
            return orphan, supplied  # we sent the secret ourselves, so it is known
        if self.caps.rotate_in_place:
            log.warning("%s/%s: create outcome was unknown; rotating the orphan's secret", self.org.name, hook.name)
            return orphan, self.provider.rotate(orphan, None)
        log.warning("%s/%s: create outcome was unknown; re-creating the orphan", self.org.name, hook.name)
        self.provider.delete(orphan.id)
        return self.provider.create(hook, None)

    def same_webhook(self, live: LiveWebhook, hook: DesiredWebhook) -> bool:
        if self.caps.label_field and live.label is not None:
            return live.label == hook.name
        return live.url == hook.url

    def keep_secret(self, hook: DesiredWebhook, live: LiveWebhook, secret: Secret) -> None:
        record = self.record(hook, secret, webhook_id=live.id)
        try:
            self.store.write(self.org.name, hook.name, record)
        except SecretStoreError as exc:
            # Never leave a webhook whose secret is lost: undo the create, or keep the secret aside.
            try:
                self.provider.delete(live.id)
            except ReconcilerError:
                path = recovery.keep(self.org.name, hook.name, record)
                raise SecretStoreError(
                    f"{exc}; the new webhook {live.id} could not be deleted again, so its secret was saved to "
                    f"{path} (mode 0600); the next apply stores it and removes the file"
                ) from None
            raise SecretStoreError(f"{exc}; the new webhook {live.id} was deleted again") from None
        self.index[hook.name] = IndexEntry(live.id, hook.protect)
        self.store.write_index(self.org.name, self.index)

    def store_rotated(self, name: str, record: SecretRecord) -> None:
        """The provider already uses the new secret: store it, or keep it aside where only the user reads it."""
        try:
            self.store.write(self.org.name, name, record)
        except SecretStoreError as exc:
            path = recovery.keep(self.org.name, name, record)
            raise SecretStoreError(
                f"{exc}; the rotated secret was saved to {path} (mode 0600); the next apply stores it"
            ) from None

    def record(self, hook: DesiredWebhook, secret: Secret, *, webhook_id: str) -> SecretRecord:
        return SecretRecord(secret, webhook_id, self.org.provider, hook.url, now(), protect=hook.protect)

    # -- update ---------------------------------------------------------------------------------

    def update(self, change: Change, hook: DesiredWebhook, live: LiveWebhook) -> str:
        if any(f.field != "protect" for f in change.fields):
            live = self.provider.update(live, hook)
        old_name = change.renamed_from or hook.name
        record = self.store.read(self.org.name, old_name)
        if record is not None and record.webhook_id == live.id:
            moved = dataclasses.replace(record, url=live.url, protect=hook.protect)
            if moved != record or old_name != hook.name:
                self.store.write(self.org.name, hook.name, moved)
        self.index.pop(old_name, None)
        self.index[hook.name] = IndexEntry(live.id, hook.protect)
        self.store.write_index(self.org.name, self.index)
        if old_name != hook.name:
            self.store.delete(self.org.name, old_name)
            return f"renamed from {old_name}; secret moved to {self.store.location(self.org.name, hook.name)}"
        return f"updated {live.id}"

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, webhook_id: str) -> str:
        self.provider.delete(webhook_id)
        for name, entry in list(self.index.items()):
            if entry.webhook_id == webhook_id:
                self.store.delete(self.org.name, name)
                del self.index[name]
                self.store.write_index(self.org.name, self.index)
        return f"deleted {webhook_id}"


def flush_recovery(session: Session, org: Organization) -> list[str]:
    """Store secrets an earlier run had to keep in a recovery file, then remove the files."""
    stored = []
    for path, webhook, record in recovery.pending(org.name):
        store = session.store(org)
        store.write(org.name, webhook, record)
        index = store.read_index(org.name) or {}
        index[webhook] = IndexEntry(record.webhook_id, record.protect)
        store.write_index(org.name, index)
        path.unlink()
        stored.append(f"{org.name}/{webhook}: recovered secret stored in {store.location(org.name, webhook)}")
    return stored
