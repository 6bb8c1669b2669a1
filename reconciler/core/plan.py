"""The plan: frozen value objects (a type per change), their stable order and digests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Literal

from reconciler.core.model import DesiredWebhook, LiveWebhook, Organization, PolicyFile
from reconciler.core.shards import Shard

Action = Literal["create", "update", "delete", "replace"]
ACTION_ORDER: dict[str, int] = {"create": 0, "replace": 1, "update": 2, "delete": 3}

PLAN_FORMAT_VERSION = 1

@dataclass(frozen=True)
class FieldChange:
    field: str
    before: object
    after: object
    # Shown and saved only as masked: the value came from ${env:...} (or equals one), or the change is
    # only inside a URL's `user:password@` part.
    masked: bool = False


@dataclass(frozen=True)
class Protection:
    """`protect` changes. It lives in the secret store only (the APIs know nothing of it): removing the webhook
    from the manifests later must still find the guard."""

    before: bool
    after: bool


@dataclass(frozen=True)
class Rotation:
    """A new signing secret is due: the stored one is past its `rotate_after`, or an earlier apply was stopped
    while setting it (the secret in force may be one nobody has). Says when and why, never a value."""

    since: str  # "set 2026-01-02T03:04:05Z", or why the secret in force is unknown
    rule: str  # "new secret (rotate_after 30d)"


# How protection and rotation read beside the API's fields in every plan format (text, JSON, markdown).
PROTECT_FIELD = "protect"
SECRET_FIELD = "secret"


@dataclass(frozen=True, kw_only=True)
class Change:
    """One change of a plan: a subclass per action, each with the fields of its own, which the applier
    dispatches on. What a subclass does not have reads as nothing here (no rename, no protection...), so the
    renderers show any change alike. Those defaults are non-data descriptors (cached_property), so that a
    subclass's own field of the same name, stored in the instance, is what reads.

    `action` is what the plan's formats call it (create, update, replace, delete: what a reviewer counts);
    `kind` names the subclass (a rename and an in-place rotation are updates to a reviewer, not to the applier).
    `Recorded` is a change read back from a report: shown, never applied.
    """

    ACTION: ClassVar[Action]
    KIND: ClassVar[str]
    org: str
    webhook: str  # the declared name; for an undeclared live webhook, its label or id
    fields: tuple[FieldChange, ...] = ()  # the API's fields that change
    webhook_set: str | None = None  # the set the declared webhook comes from (contract §2.1)

    @cached_property
    def webhook_id(self) -> str | None:
        """The live id; None for a create."""
        return None

    @cached_property
    def protection(self) -> Protection | None:
        return None

    @cached_property
    def rotation(self) -> Rotation | None:
        return None

    @cached_property
    def renamed_from(self) -> str | None:
        """The earlier name the webhook and its store records are under."""
        return None

    @cached_property
    def new_destination(self) -> bool:
        """Events go to a host this org did not send to before."""
        return False

    @cached_property
    def protected(self) -> bool:
        """Deletes a webhook whose record says `protect: true` (apply refuses it)."""
        return False

    @property
    def action(self) -> Action:
        return self.ACTION

    @property
    def kind(self) -> str:
        return self.KIND

    @property
    def removes_webhook(self) -> bool:
        """A live webhook goes: a delete, or a replace (its successor is made first, then it is deleted)."""
        return self.action in ("delete", "replace")

    @property
    def shown_fields(self) -> tuple[FieldChange, ...]:
        """The API's fields, then protection and rotation as the plan's formats show them."""
        shown = self.fields
        if self.protection is not None:
            shown += (FieldChange(PROTECT_FIELD, self.protection.before, self.protection.after),)
        if self.rotation is not None:
            shown += (FieldChange(SECRET_FIELD, self.rotation.since, self.rotation.rule),)
        return shown

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.org, ACTION_ORDER[self.action], self.webhook)


# `desired` and `live` are what the applier needs beside a change: never compared, shown or serialised (the
# desired side may hold env-sourced values).
@dataclass(frozen=True, kw_only=True)
class Create(Change):
    ACTION: ClassVar[Action] = "create"
    KIND: ClassVar[str] = "create"
    new_destination: bool = False
    desired: DesiredWebhook = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Update(Change):
    """A declared webhook matched to a live one: the API's fields change, or only the store's `protect`."""

    ACTION: ClassVar[Action] = "update"
    KIND: ClassVar[str] = "update"
    webhook_id: str = field()  # required: `field()` keeps the base's cached_property from being its default
    protection: Protection | None = None
    new_destination: bool = False
    desired: DesiredWebhook = field(compare=False, repr=False)
    live: LiveWebhook = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Rename(Update):
    """Found under an earlier name (`previously`): its store records move to the declared name."""

    KIND: ClassVar[str] = "rename"
    renamed_from: str = field()


@dataclass(frozen=True, kw_only=True)
class Rotate(Update):
    """A new secret in place (same id), where the API can rotate; other updates of the webhook (a rename too)
    come with it."""

    KIND: ClassVar[str] = "rotate"
    rotation: Rotation = field()
    renamed_from: str | None = None


@dataclass(frozen=True, kw_only=True)
class Replace(Update):
    """A new secret where the API cannot rotate in place: a new webhook, then the old one is deleted (so a
    protected one is refused)."""

    ACTION: ClassVar[Action] = "replace"
    KIND: ClassVar[str] = "replace"
    rotation: Rotation = field()
    renamed_from: str | None = None
    protected: bool = False


@dataclass(frozen=True, kw_only=True)
class Delete(Change):
    """A live webhook no manifest declares, with `prune`."""

    ACTION: ClassVar[Action] = "delete"
    KIND: ClassVar[str] = "delete"
    webhook_id: str = field()
    protected: bool = False
    live: LiveWebhook = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Recorded(Change):
    """A change read back from a JSON report (`merge-reports`): rendered again, never applied."""

    KIND: ClassVar[str] = "recorded"
    recorded: Action
    webhook_id: str | None = None
    protection: Protection | None = None
    rotation: Rotation | None = None
    renamed_from: str | None = None
    new_destination: bool = False
    protected: bool = False

    @property
    def action(self) -> Action:
        return self.recorded


@dataclass(frozen=True)
class Unmanaged:
    """A live webhook that no manifest declares, left alone (no `prune`)."""

    webhook_id: str
    url: str
    label: str | None = None
    masked: bool = False  # its URL equals an env-sourced one of the manifests: never shown


@dataclass(frozen=True)
class OrgPlan:
    org: str
    provider: str
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    unmanaged_ignored: bool = False  # `unmanaged: ignore`: listed, never drift
    live_count: int = 0
    live_digest: str = ""
    error: str | None = None  # the org could not be planned (unreadable, ambiguous, ...)
    # Its index was rebuilt without a list of the store's records: a delete may remove a protected webhook.
    protection_unknown: bool = False


@dataclass(frozen=True)
class Plan:
    paths: tuple[str, ...]
    manifest_digest: str
    orgs: tuple[OrgPlan, ...]
    # See masked_digest(): set for a plan written as JSON (what `apply --plan` reads); None when no webhook
    # field comes from ${env:...}.
    masked_digest: str | None = None
    policy_file: PolicyFile | None = None  # `--policy FILE`: `apply --plan` reads it again, and it must not move
    shard: Shard | None = None  # made with --shard K/N: only that shard's orgs

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for o in self.orgs for c in o.changes)

    @property
    def errors(self) -> tuple[OrgPlan, ...]:
        return tuple(o for o in self.orgs if o.error is not None)

    def counts(self) -> dict[str, int]:
        return action_counts(self.changes)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


def masked_digest(manifest_digest: str, orgs: Iterable[Organization]) -> str | None:
    """A digest of the webhook values that came from ${env:...} in `orgs`, for `apply --plan` to see that one
    moved since the plan: the files' digest does not cover the environment, and a saved plan shows these values
    masked. They may be credentials (a URL with a token in it), so the digest is scrypt's, salted with the
    manifests' digest: slow to guess from, yet the same for the same manifests and environment."""
    rows = sorted(
        f"{org.name}/{hook.name}.{name}={getattr(hook, name)}"
        for org in orgs
        for hook in org.webhooks
        for name in hook.masked
    )
    if not rows:
        return None
    salt = bytes.fromhex(manifest_digest)[:16]
    return "scrypt:" + hashlib.scrypt("\n".join(rows).encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


def action_counts(changes: Iterable[Change]) -> dict[str, int]:
    """How many changes of each action (the JSON summary): a replace is one change."""
    counts = {"create": 0, "update": 0, "delete": 0, "replace": 0}
    for change in changes:
        counts[change.action] += 1
    return counts


def webhook_counts(counts: Mapping[str, int]) -> tuple[int, int, int]:
    """Webhooks created, updated and deleted, as every summary line and table counts them: a replace creates
    one webhook and deletes one, so it counts in both (Terraform's "1 to add, 1 to destroy")."""
    return counts["create"] + counts["replace"], counts["update"], counts["delete"] + counts["replace"]


def sort_changes(changes: Iterable[Change]) -> tuple[Change, ...]:
    """Creates and updates first, deletes last: an org never loses a webhook before its successor exists."""
    return tuple(sorted(changes, key=lambda c: c.sort_key))


def live_digest(live: Iterable[LiveWebhook]) -> str:
    """A digest of the live state that matters for planning; delivery status is left out (it moves)."""
    rows = [
        [
            w.id,
            w.url,
            sorted(w.events) if w.events is not None else None,
            w.active,
            w.label,
            w.description,
            w.verify_tls,
        ]
        for w in sorted(live, key=lambda w: w.id)
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
