"""diff(desired, live, index) -> OrgPlan. Pure: no I/O, no logging, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.model import DesiredWebhook, IndexEntry, LiveWebhook, Organization
from reconciler.plan import Change, FieldChange, OrgPlan, Unmanaged, live_digest, sort_changes
from reconciler.providers.capabilities import Capabilities


class AmbiguousMatch(Exception):
    pass


@dataclass(frozen=True)
class Match:
    desired: DesiredWebhook
    live: LiveWebhook
    via_name: str  # the name (current or a `previously` one) the match was made under


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


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
    fields: dict[str, object] = {"url": hook.url}
    if caps.label_field:
        fields["name"] = hook.name
    if caps.events is not None:
        fields["events"] = desired_events(hook, caps)
    if caps.pausable:
        fields["active"] = hook.active
    if caps.has_description:
        fields["description"] = hook.description or None
    if "verify_tls" in caps.options:
        fields["verify_tls"] = True if hook.verify_tls is None else hook.verify_tls
    return fields


def observed(live: LiveWebhook, caps: Capabilities) -> dict[str, object]:
    fields: dict[str, object] = {"url": live.url}
    if caps.label_field:
        fields["name"] = live.label
    if caps.events is not None:
        fields["events"] = live_events(live, caps)
    if caps.pausable:
        fields["active"] = live.active
    if caps.has_description:
        fields["description"] = live.description or None
    if "verify_tls" in caps.options:
        fields["verify_tls"] = True if live.verify_tls is None else live.verify_tls
    return fields


def field_changes(hook: DesiredWebhook, live: LiveWebhook, caps: Capabilities) -> tuple[FieldChange, ...]:
    want, have = comparable(hook, caps), observed(live, caps)
    return tuple(
        FieldChange(name, _plain(have[name]), _plain(want[name]), masked=name in hook.masked)
        for name in want
        if want[name] != have[name]
    )


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
    """SPEC §3: stored id, then label, then URL. Raises AmbiguousMatch when one webhook has two candidates."""
    by_id = {w.id: w for w in live}
    claimed: set[str] = set()
    matches: dict[str, Match] = {}

    def names(hook: DesiredWebhook) -> tuple[str, ...]:
        return (hook.name, *hook.previously)

    def take(hook: DesiredWebhook, found: LiveWebhook, via: str) -> None:
        claimed.add(found.id)
        matches[hook.name] = Match(hook, found, via)

    for hook in declared:  # (1) the store's record names the id
        for name in names(hook):
            entry = index.get(name)
            if entry and entry.webhook_id in by_id and entry.webhook_id not in claimed:
                take(hook, by_id[entry.webhook_id], name)
                break
    if caps.label_field:  # (2) the provider's label equals the name
        for hook in declared:
            if hook.name in matches:
                continue
            for name in names(hook):
                found = [w for w in live if w.label == name and w.id not in claimed]
                if len(found) > 1:
                    raise AmbiguousMatch(_ambiguous(hook.name, found, f"label '{name}'"))
                if found:
                    take(hook, found[0], name)
                    break
    url_claims: dict[str, int] = {}
    for hook in declared:
        if hook.name not in matches:
            url_claims[hook.url] = url_claims.get(hook.url, 0) + 1
    for hook in declared:  # (3) the URL, when no other declared webhook claims it
        if hook.name in matches or url_claims[hook.url] > 1:
            continue
        found = [w for w in live if w.url == hook.url and w.id not in claimed]
        if caps.label_field:
            # A webhook labelled for another declared name belongs to that one, not to this URL match.
            found = [w for w in found if not w.label or w.label not in _all_names(declared)]
        if len(found) > 1:
            raise AmbiguousMatch(_ambiguous(hook.name, found, "URL"))
        if found:
            take(hook, found[0], hook.name)
    return [matches[h.name] for h in declared if h.name in matches]


def _all_names(declared: Sequence[DesiredWebhook]) -> set[str]:
    return {n for h in declared for n in (h.name, *h.previously)}


def _ambiguous(name: str, found: Sequence[LiveWebhook], how: str) -> str:
    ids = ", ".join(sorted(w.id for w in found))
    return f"ambiguous: webhook '{name}' matches {len(found)} live webhooks by {how} ({ids}); nothing applied"


def plan_org(
    org: Organization,
    caps: Capabilities,
    live: Sequence[LiveWebhook],
    index: Mapping[str, IndexEntry],
) -> OrgPlan:
    digest = live_digest(live)
    try:
        matches = match(org.webhooks, live, index, caps)
    except AmbiguousMatch as exc:
        return OrgPlan(org.name, org.provider, live_count=len(live), live_digest=digest, error=str(exc))
    matched = {m.desired.name: m for m in matches}
    matched_ids = {m.live.id for m in matches}
    hosts_before = {host(w.url) for w in live}
    protected_ids = {e.webhook_id for e in index.values() if e.protect}
    name_of_id = {e.webhook_id: name for name, e in index.items()}

    changes: list[Change] = []
    for hook in org.webhooks:
        m = matched.get(hook.name)
        if m is None:
            changes.append(
                Change(
                    "create",
                    org.name,
                    hook.name,
                    fields=_creation_fields(hook, caps),
                    new_destination=host(hook.url) not in hosts_before,
                    desired=hook,
                )
            )
            continue
        fields = field_changes(hook, m.live, caps)
        renamed_from = m.via_name if m.via_name != hook.name else None
        stored_protect = index.get(m.via_name, IndexEntry("")).protect
        if hook.protect != stored_protect:
            # Recorded in the store only: removing the webhook later must still find the guard.
            fields = (*fields, FieldChange("protect", stored_protect, hook.protect))
        if fields or renamed_from:
            new_host = any(f.field == "url" for f in fields) and host(hook.url) not in hosts_before
            changes.append(
                Change(
                    "update",
                    org.name,
                    hook.name,
                    m.live.id,
                    fields,
                    renamed_from=renamed_from,
                    new_destination=new_host,
                    desired=hook,
                    live=m.live,
                )
            )

    unmanaged: list[Unmanaged] = []
    for w in live:
        if w.id in matched_ids:
            continue
        if org.prune:
            changes.append(
                Change(
                    "delete",
                    org.name,
                    name_of_id.get(w.id) or w.label or w.id,
                    w.id,
                    fields=(FieldChange("url", w.url, None),),
                    protected=w.id in protected_ids,
                    live=w,
                )
            )
        else:
            unmanaged.append(Unmanaged(w.id, w.url, w.label))
    return OrgPlan(
        org.name,
        org.provider,
        sort_changes(changes),
        tuple(sorted(unmanaged, key=lambda u: u.webhook_id)),
        unmanaged_ignored=org.unmanaged == "ignore",
        live_count=len(live),
        live_digest=digest,
    )


def _creation_fields(hook: DesiredWebhook, caps: Capabilities) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, None, _plain(value), masked=name in hook.masked)
        for name, value in comparable(hook, caps).items()
    )
