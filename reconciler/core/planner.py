"""diff(desired, live, index) -> OrgPlan. Pure: no I/O, no logging, no clock."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization, SecretAge
from reconciler.core.neutral import text
from reconciler.core.plan import (
    Change,
    Create,
    Delete,
    FieldChange,
    OrgPlan,
    Protection,
    Rename,
    Replace,
    Rotate,
    Rotation,
    Unmanaged,
    Update,
    live_digest,
    sort_changes,
)
from reconciler.core.redact import mask_userinfo
from reconciler.core.rotation import INTERRUPTED, rotation_due
from reconciler.core.urls import url_host


class AmbiguousMatch(Exception):
    pass


@dataclass(frozen=True)
class Match:
    desired: DesiredWebhook
    live: LiveWebhook
    via_name: str  # the name (current or a `previously` one) the match was made under


def host(url: str) -> str:
    """The host a URL reaches, "" for none (a live URL may be any text)."""
    return url_host(url) or ""


def desired_events(hook: DesiredWebhook, caps: Capabilities) -> frozenset[str] | None:
    """The events the API will hold: an omitted list means "all", which some APIs spell as the catalog."""
    if caps.events is None:
        return None
    if hook.events is None or (caps.empty_events_means_all and not hook.events):
        return None if caps.empty_events_means_all else caps.events
    return hook.events


def live_events(live: LiveWebhook, caps: Capabilities) -> frozenset[str] | None:
    if caps.empty_events_means_all and live.events is not None and not live.events:
        return None
    return live.events


def comparable(hook: DesiredWebhook, caps: Capabilities) -> dict[str, object]:
    """The desired state in the API's terms: only fields the provider has, defaults filled in."""
    return _in_api_terms(caps, hook.url, hook.name, desired_events(hook, caps), hook.active, hook.description,
                         hook.verify_tls)


def observed(live: LiveWebhook, caps: Capabilities) -> dict[str, object]:
    """The live state in the same terms, so that equal means "nothing to change"."""
    return _in_api_terms(caps, live.url, live.label, live_events(live, caps), live.active, live.description,
                         live.verify_tls)


def _in_api_terms(
    caps: Capabilities,
    url: str,
    label: str | None,
    events: frozenset[str] | None,
    active: bool,
    description: str | None,
    verify_tls: bool | None,
) -> dict[str, object]:
    fields: dict[str, object] = {"url": url}
    if caps.label_field:
        fields["name"] = label
    if caps.events is not None:
        fields["events"] = events
    if caps.pausable:
        fields["active"] = active
    if caps.has_description:
        fields["description"] = description or None
    if "verify_tls" in caps.options:
        fields["verify_tls"] = True if verify_tls is None else verify_tls
    return fields


def field_changes(
    hook: DesiredWebhook, live: LiveWebhook, caps: Capabilities, secret_values: frozenset[str] = frozenset()
) -> tuple[FieldChange, ...]:
    want, have = comparable(hook, caps), observed(live, caps)
    if want == have:  # the common case, decided in one comparison
        return ()
    return tuple(
        FieldChange(name, before, after, masked=_masked(name, before, after, hook, secret_values))
        for name in want
        if want[name] != have[name]
        for before, after in [(_plain(have[name]), _plain(want[name]))]
    )


def secret_values(org: Organization) -> frozenset[str]:
    """The org's env-sourced values: shown masked wherever they appear, also on the live side."""
    return frozenset(
        value for hook in org.webhooks for name in hook.masked if isinstance(value := getattr(hook, name), str)
    )


def _masked(name: str, before: object, after: object, hook: DesiredWebhook, secrets: frozenset[str]) -> bool:
    texts = [value for value in (before, after) if isinstance(value, str)]
    if name in hook.masked or any(text in secrets for text in texts):
        return True
    # A change only inside a URL's `user:password@` part would look like no change once the credentials
    # are hidden: show it as a masked change instead.
    return len(texts) == 2 and texts[0] != texts[1] and mask_userinfo(texts[0]) == mask_userinfo(texts[1])


def _plain(value: object) -> object:
    """JSON-friendly and stable: sets become sorted lists."""
    if isinstance(value, frozenset):
        return sorted(value)
    return value


def match(
    declared: Sequence[DesiredWebhook],
    live: Sequence[LiveWebhook],
    index: Mapping[str, IndexEntry],
    caps: Capabilities,
) -> list[Match]:
    """contract §3: stored id, then label, then URL. Raises AmbiguousMatch when one webhook has two candidates.

    A webhook's candidates at each step are gathered under its name and all its `previously` names: a
    live webhook under the new name and another under an old one are two candidates, never a silent pick.
    """
    by_id = {w.id: w for w in live}
    claimed: set[str] = set()
    matches: dict[str, Match] = {}

    def take(hook: DesiredWebhook, found: list[tuple[LiveWebhook, str]], how: str) -> None:
        if len(found) > 1 and len({w.id for w, _ in found}) > 1:
            raise AmbiguousMatch(_ambiguous(hook.name, [w for w, _ in found], how))
        if found:
            live_hook, via = found[0]
            claimed.add(live_hook.id)
            matches[hook.name] = Match(hook, live_hook, via)

    for hook in declared:  # (1) the store's record names the id
        take(
            hook,
            [
                (by_id[entry.webhook_id], name)
                for name in _names(hook)
                if (entry := index.get(name)) and entry.webhook_id in by_id and entry.webhook_id not in claimed
            ],
            "stored id",
        )
    if caps.label_field:  # (2) the provider's label equals the name
        for hook in declared:
            if hook.name not in matches:
                labelled = [(w, n) for n in _names(hook) for w in live if w.label == n and w.id not in claimed]
                take(hook, labelled, "label")
    if len(matches) == len(declared):
        return [matches[h.name] for h in declared]
    url_claims = Counter(hook.url for hook in declared if hook.name not in matches)
    labels_declared = {n for h in declared for n in _names(h)}
    for hook in declared:  # (3) the URL, when no other declared webhook claims it
        if hook.name in matches or url_claims[hook.url] > 1:
            continue
        same_url = [w for w in live if w.url == hook.url and w.id not in claimed]
        if caps.label_field:
            # A webhook labelled for another declared name belongs to that one, not to this URL match.
            same_url = [w for w in same_url if not w.label or w.label not in labels_declared]
        take(hook, [(w, hook.name) for w in same_url], "URL")
    return [matches[h.name] for h in declared if h.name in matches]


def _names(hook: DesiredWebhook) -> tuple[str, ...]:
    return (hook.name, *hook.previously)


def _ambiguous(name: str, found: Sequence[LiveWebhook], how: str) -> str:
    ids = sorted({text(w.id) for w in found})  # the provider's ids: shown escaped
    return f"ambiguous: webhook '{name}' matches {len(ids)} live webhooks by {how} ({', '.join(ids)}); nothing applied"


def plan_org(
    org: Organization,
    caps: Capabilities,
    live: Sequence[LiveWebhook],
    index: Mapping[str, IndexEntry],
    rotation_due: Mapping[str, SecretAge] | None = None,
    index_complete: bool = True,
) -> OrgPlan:
    """`rotation_due`: webhooks whose stored secret is past `rotate_after` (see engine/rotation.py).
    `index_complete=False`: the index was rebuilt without a list of the store's records, so an unmatched live
    webhook may be a protected one no longer declared: its delete counts as protected (refused)."""
    digest = live_digest(live)
    try:
        matches = match(org.webhooks, live, index, caps)
    except AmbiguousMatch as exc:
        return OrgPlan(org.name, org.provider, live_count=len(live), live_digest=digest, error=str(exc))
    facts = _OrgFacts(org, caps, live, index, rotation_due or {}, secret_values(org))
    matched = {m.desired.name: m for m in matches}
    changes: list[Change] = []
    for hook in org.webhooks:
        m = matched.get(hook.name)
        change = facts.create(hook) if m is None else facts.changed(hook, m)
        if change is not None:
            changes.append(change)
    matched_ids = {m.live.id for m in matches}
    leftover = [w for w in live if w.id not in matched_ids]
    unmanaged: list[Unmanaged] = []
    if org.prune:
        changes += [facts.delete(w, index_complete) for w in leftover]
    else:
        unmanaged = [Unmanaged(w.id, w.url, w.label, masked=w.url in facts.secrets) for w in leftover]
    return OrgPlan(
        org.name,
        org.provider,
        sort_changes(changes),
        tuple(sorted(unmanaged, key=lambda u: u.webhook_id)),
        unmanaged_ignored=org.unmanaged == "ignore",
        live_count=len(live),
        live_digest=digest,
        protection_unknown=not index_complete and any(isinstance(c, Delete) for c in changes),
    )


class _Matched(TypedDict):
    """What every change of a matched webhook has (Update, Rename, Rotate, Replace)."""

    org: str
    webhook: str
    webhook_id: str
    fields: tuple[FieldChange, ...]
    protection: Protection | None
    new_destination: bool
    webhook_set: str | None
    desired: DesiredWebhook
    live: LiveWebhook


@dataclass(frozen=True)
class _OrgFacts:
    """What planning one org's webhooks reads: the steps of plan_org, each one kind of change."""

    org: Organization
    caps: Capabilities
    live: Sequence[LiveWebhook]
    index: Mapping[str, IndexEntry]
    rotation_due: Mapping[str, SecretAge]
    secrets: frozenset[str]

    @functools.cached_property
    def hosts_before(self) -> frozenset[str]:
        """The hosts the org sends to now; parsing every live URL is needed only for a create or URL change."""
        return frozenset(host(w.url) for w in self.live)

    def create(self, hook: DesiredWebhook) -> Create:
        return Create(
            org=self.org.name,
            webhook=hook.name,
            fields=_creation_fields(hook, self.caps),
            new_destination=host(hook.url) not in self.hosts_before,
            webhook_set=hook.webhook_set,
            desired=hook,
        )

    def changed(self, hook: DesiredWebhook, m: Match) -> Change | None:
        """A declared webhook matched to a live one: an update, rename, rotation or replace, or None."""
        fields = field_changes(hook, m.live, self.caps, self.secrets)
        entry = self.index.get(m.via_name)
        stored_protect = entry is not None and entry.protect
        protection = Protection(stored_protect, hook.protect) if hook.protect != stored_protect else None
        rotation = self.rotation(hook, m.live, entry)
        renamed_from = m.via_name if m.via_name != hook.name else None
        if not (fields or protection or rotation or renamed_from):
            return None
        matched = _Matched(
            org=self.org.name,
            webhook=hook.name,
            webhook_id=m.live.id,
            fields=fields,
            protection=protection,
            new_destination=any(f.field == "url" for f in fields) and host(hook.url) not in self.hosts_before,
            webhook_set=hook.webhook_set,
            desired=hook,
            live=m.live,
        )
        if rotation is not None and self.caps.rotate_in_place:
            return Rotate(**matched, rotation=rotation, renamed_from=renamed_from)
        if rotation is not None:  # a new secret there means a new webhook, and the old one deleted
            protected = hook.protect or stored_protect
            return Replace(**matched, rotation=rotation, renamed_from=renamed_from, protected=protected)
        if renamed_from is not None:
            return Rename(**matched, renamed_from=renamed_from)
        return Update(**matched)

    def rotation(self, hook: DesiredWebhook, live: LiveWebhook, entry: IndexEntry | None) -> Rotation | None:
        age = self.rotation_due.get(hook.name)
        if age is not None and age.webhook_id == live.id and hook.rotate_after_days is not None:
            return rotation_due(age, hook.rotate_after_days)
        if entry is not None and entry.pending:
            return INTERRUPTED  # an earlier apply stopped while setting this secret: set a new one
        return None

    def delete(self, w: LiveWebhook, index_complete: bool) -> Delete:
        name_of_id = {e.webhook_id: name for name, e in self.index.items()}
        protected = any(e.webhook_id == w.id and e.protect for e in self.index.values())
        return Delete(
            org=self.org.name,
            webhook=name_of_id.get(w.id) or w.label or w.id,
            webhook_id=w.id,
            fields=(FieldChange("url", w.url, None, masked=w.url in self.secrets),),
            protected=protected or not index_complete,
            live=w,
        )


def _creation_fields(hook: DesiredWebhook, caps: Capabilities) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, None, _plain(value), masked=name in hook.masked)
        for name, value in comparable(hook, caps).items()
    )
