"""Build the model from schema-valid, interpolated documents, checking what a schema cannot:
names across files, store references, provider capabilities (read from CAPABILITIES) and the policy.

Each check reads only values that passed the schema (`Document.ok`), so one problem is reported once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from reconciler.core.capabilities import Capabilities
from reconciler.core.errors import Problem
from reconciler.core.model import (
    MASKED_FIELDS,
    DesiredWebhook,
    Location,
    Organization,
    OrgOutline,
    Policy,
    StoreConfig,
)
from reconciler.core.secret import Secret
from reconciler.core.urls import ambiguity, has_credentials, is_http_url
from reconciler.manifest.policy import api_host_violations, policy_of, policy_violations
from reconciler.manifest.yamlload import Document, Path, YMap, YSeq, describe
from reconciler.plugins import CAPABILITIES
from reconciler.plugins import store as store_plugin
from reconciler.plugins import stores as store_plugins
from reconciler.providers.capabilities import BUILTIN

# Webhook fields only some providers take; each provider lists its own in `Capabilities.options`.
# (The built-ins': the schema names each option a webhook may carry.)
_OPTIONS = frozenset().union(*(caps.options for caps in BUILTIN))
_DAYS_PER_UNIT = {"d": 1, "w": 7}
_IMPLICIT_STORE = StoreConfig(name="default", type="keyring")


@dataclass(frozen=True)
class Built:
    """What the manifests declare; only meaningful when `problems` is empty."""

    stores: tuple[StoreConfig, ...]
    policy: Policy | None
    organizations: tuple[Organization, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    declared: tuple[int, int] = (0, 0)  # organizations and webhooks as written, built or not
    outlines: tuple[OrgOutline, ...] = ()  # every org whose name, provider and store could be read
    unset_store_variables: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (store, variables), offline only


def build(docs: list[Document], base_policy: Policy | None = None) -> Built:
    """Stores and the policy first, from every file, so an organization may use a later file's store.
    `base_policy` (`--policy FILE`) holds beside the manifests' own: a URL must pass both."""
    builder = _Builder(base_policy)
    for doc in docs:
        builder.stores(doc)
    for doc in docs:
        builder.policy(doc)
    for doc in docs:
        builder.organizations(doc)
    return Built(
        tuple(builder.stores_),
        builder.policy_,
        tuple(builder.organizations_),
        tuple(builder.problems),
        tuple(builder.warnings),
        (builder.declared_orgs, builder.declared_webhooks),
        tuple(builder.outlines.values()),
        tuple(builder.unset_store_variables.items()),
    )


def _location(doc: Document, path: Path) -> Location:
    line, col = doc.mark_of(path)
    return Location(doc.file, line, col)


def _secret(doc: Document, path: Path, problems: list[Problem]) -> Secret | None:
    """The token at `path`, which must have come from exactly one ${env:NAME} (contract §2); empty is a problem."""
    value: str = doc.value_at(path)
    if path not in doc.whole_refs:
        problems.append(doc.problem(path, "'token' must be a reference such as ${env:NAME}, never a literal secret"))
        return None
    if not value:
        (name,) = doc.refs[path]
        problems.append(doc.problem(path, f"environment variable '{name}' is empty", where=path))
        return None
    return Secret(value)


_NONE: frozenset[str] = frozenset()  # a webhook with no env-sourced fields (the usual case)


def _url_problem(doc: Document, path: Path, url: str) -> Problem | None:
    """A URL that parsers could send to different hosts (always refused: no check of its host, nor the plan's
    display of it, could be trusted), or one without a host a browser would accept, which the schema's
    pattern let through (`http://./`, `https://[bad`)."""
    subject = f"'{path[-1]}'" + (f" (from ${{env:{doc.refs[path][0]}}})" if path in doc.refs else "")
    reason = ambiguity(url)
    if reason is not None:
        return doc.problem(path, f"{subject} is ambiguous: {reason}; write it so that every parser reads one host")
    if not is_http_url(url):
        return doc.problem(path, f"{subject} must be an http:// or https:// URL with a valid host")
    return None


class _Builder:
    def __init__(self, base_policy: Policy | None) -> None:
        self.stores_: list[StoreConfig] = []
        self.base_policy = base_policy
        self.policy_: Policy | None = None
        self.organizations_: list[Organization] = []
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.declared_orgs = 0
        self.declared_webhooks = 0
        self.store_sites: dict[str, str] = {}  # name -> where first defined
        self.policy_site: str | None = None
        self.org_sites: dict[str, str] = {}
        self.outlines: dict[str, OrgOutline] = {}  # by name, for orgs built or not
        self.unset_store_variables: dict[str, tuple[str, ...]] = {}

    def _problem(self, problem: Problem | None) -> None:
        if problem is not None:
            self.problems.append(problem)

    def stores(self, doc: Document) -> None:
        stores = doc.data.get("secret_stores")
        if not isinstance(stores, YMap):
            return
        for name, spec in stores.items():
            path: Path = ("secret_stores", name)
            if name in self.store_sites:
                message = f"secret store '{name}' is already defined at {self.store_sites[name]}"
                self._problem(doc.problem(path, message, key=True, where=()))
                continue
            self.store_sites[name] = doc.location(path, key=True)
            if not isinstance(spec, YMap) or not doc.ok(path):
                unset = {ref for at, refs in doc.refs.items() if at[:2] == path and at in doc.broken for ref in refs}
                if unset:
                    self.unset_store_variables[name] = tuple(sorted(unset))
                continue
            if store_plugin(spec["type"]) is None:
                installed = list(store_plugins())
                why = _not_installed("store types", spec["type"], installed, doc, (*path, "type"))
                self._problem(doc.problem((*path, "type"), why))
                continue
            if spec["type"] == "keyring":
                service = spec.get("service", "webhook-reconciler")
                self.stores_.append(StoreConfig(name, "keyring", service=service))
                continue
            if spec["type"] != "vault":  # a plugin's type: it reads the fields it needs from its config
                self.stores_.append(self._plugin_store(doc, path, name, spec))
                continue
            self._problem(_url_problem(doc, (*path, "address"), spec["address"]))
            token = _secret(doc, (*path, "token"), self.problems)
            store = StoreConfig(
                name,
                "vault",
                address=spec["address"].rstrip("/"),
                token=token,
                mount=spec.get("mount", "secret"),
                path=spec.get("path", "webhooks"),
            )
            self.stores_.append(store)

    def _plugin_store(self, doc: Document, path: Path, name: str, spec: YMap) -> StoreConfig:
        token = _secret(doc, (*path, "token"), self.problems) if "token" in spec else None
        address = spec.get("address")
        return StoreConfig(
            name,
            spec["type"],
            service=spec.get("service", "webhook-reconciler"),
            address=address.rstrip("/") if isinstance(address, str) else None,
            token=token,
            mount=spec.get("mount", "secret"),
            path=spec.get("path", "webhooks"),
        )

    def policy(self, doc: Document) -> None:
        if "policy" not in doc.data:
            return
        if self.policy_site is not None:
            message = f"policy is already defined at {self.policy_site}"
            self._problem(doc.problem(("policy",), message, key=True, where=()))
            return
        self.policy_site = doc.location(("policy",), key=True)
        if doc.ok(("policy",)):
            self.policy_ = policy_of(doc.data["policy"], "the policy")

    def _policies(self) -> tuple[Policy, ...]:
        """Every policy in force: the --policy file's and the manifests' (which can so only narrow it)."""
        return tuple(policy for policy in (self.base_policy, self.policy_) if policy is not None)

    def organizations(self, doc: Document) -> None:
        orgs = doc.data.get("organizations")
        if not isinstance(orgs, YSeq):
            return
        for index, raw in enumerate(orgs):
            if isinstance(raw, YMap):
                self.declared_orgs += 1
                hooks = raw.get("webhooks")
                self.declared_webhooks += len(hooks) if isinstance(hooks, YSeq) else 0
                org = self._organization(doc, ("organizations", index), raw)
                if org is not None:
                    self.organizations_.append(org)

    def _organization(self, doc: Document, path: Path, raw: YMap) -> Organization | None:
        name = raw.get("name") if doc.ok((*path, "name")) else None
        if name is not None:
            if name in self.org_sites:
                message = f"organization '{name}' is already defined at {self.org_sites[name]}"
                self._problem(doc.problem(path, message, where=()))
            else:
                self.org_sites[name] = doc.location(path)
        provider = raw.get("provider") if doc.ok((*path, "provider")) else None
        caps = self._installed_provider(doc, (*path, "provider"), provider)
        base_url = self._base_url(doc, path, raw, caps)
        token = None
        if "token" in raw and doc.ok((*path, "token")):
            token = _secret(doc, (*path, "token"), self.problems)
        store = self._store_of(doc, path, raw)
        token_ref = "".join(f"${{env:{ref}}}" for ref in doc.refs.get((*path, "token"), ()))
        if name is not None and caps is not None and token_ref:
            self.outlines.setdefault(name, OrgOutline(name, caps.name, token_ref, store))
        webhooks = self._webhooks(doc, path, raw, caps)
        if name is None or caps is None or base_url is None or token is None or store is None:
            return None  # a problem was reported above (or by the schema)
        return Organization(
            name=name,
            provider=caps.name,
            base_url=base_url,
            token=token,
            secret_store=store,
            prune=raw.get("prune", False),
            unmanaged=raw.get("unmanaged", "report"),
            webhooks=webhooks,
            location=_location(doc, path),
            token_ref=token_ref,
            name_from_env=(*path, "name") in doc.refs,
        )

    def _installed_provider(self, doc: Document, path: Path, provider: object) -> Capabilities | None:
        """contract §8: `provider:` accepts whatever is installed; an unknown one lists the installed ones."""
        if not isinstance(provider, str):
            return None
        caps = CAPABILITIES.get(provider)
        if caps is None:
            self._problem(doc.problem(path, _not_installed("providers", provider, list(CAPABILITIES), doc, path)))
        return caps

    def _base_url(self, doc: Document, path: Path, raw: YMap, caps: Capabilities | None) -> str | None:
        if "base_url" not in raw:
            if caps is not None and caps.default_base_url is None:
                message = f"missing required field 'base_url': {caps.name} has no default (each tenant has its own)"
                self._problem(doc.problem(path, message, where=path))
            return caps.default_base_url if caps else None
        if not doc.ok((*path, "base_url")):
            return None
        url: str = raw["base_url"]
        url_path = (*path, "base_url")
        problem = _url_problem(doc, url_path, url)
        if problem is not None:
            self._problem(problem)
            return None
        if has_credentials(url):
            message = (
                "'base_url' must not carry 'user:password@': the org's token is its only credential (an HTTP "
                "client would send these instead, as Basic auth)"
            )
            self._problem(doc.problem(url_path, message))
        if caps is not None:  # the token goes where base_url points: each policy must allow that host
            for policy in self._policies():
                for message in api_host_violations(url, caps, policy, masked=url_path in doc.refs):
                    self._problem(doc.problem(url_path, message))
        return url.rstrip("/")

    def _store_of(self, doc: Document, path: Path, raw: YMap) -> str | None:
        """The org's store name: as written, else the only store, else the implicit keyring store."""
        defined = sorted(self.store_sites)
        if "secret_store" in raw:
            name = raw["secret_store"]
            if not doc.ok((*path, "secret_store")):
                return None
            if name not in self.store_sites:
                known = f"defined: {', '.join(defined)}" if defined else "no store is defined"
                message = f"'secret_store' names an undefined store '{name}' ({known})"
                self._problem(doc.problem((*path, "secret_store"), message))
                return None
            return str(name)
        if len(defined) > 1:
            message = f"missing 'secret_store': several stores are defined ({', '.join(defined)}); pick one"
            self._problem(doc.problem(path, message, where=path))
            return None
        if defined:
            return defined[0]
        if _IMPLICIT_STORE not in self.stores_:
            self.stores_.append(_IMPLICIT_STORE)
        return _IMPLICIT_STORE.name

    def _webhooks(self, doc: Document, path: Path, raw: YMap, caps: Capabilities | None) -> tuple[DesiredWebhook, ...]:
        hooks = raw.get("webhooks")
        if not isinstance(hooks, YSeq):
            return ()
        result: list[DesiredWebhook] = []
        sites: dict[str, Location] = {}  # webhook name -> where declared
        org_name = raw["name"] if isinstance(raw.get("name"), str) else describe(path)
        # Per org, not per webhook (10,000 of them in a large manifest): the fields caps rules out.
        unsupported = sorted(_OPTIONS - caps.options) if caps is not None else []
        # The webhooks with a value from ${env:...}, found once rather than asked of every webhook.
        depth = len(path) + 1
        interpolated = {ref[depth] for ref in doc.refs if len(ref) > depth + 1 and ref[:depth] == (*path, "webhooks")}
        by_url: dict[str, DesiredWebhook] = {}  # for an API that allows one webhook per URL
        for index, hook in enumerate(hooks):
            hook_path = (*path, "webhooks", index)
            if not isinstance(hook, YMap):
                continue
            # = _location(doc, hook_path), without the walk; a set member's copy is where the member is written
            location = Location(doc.file_of(hook_path), *hooks.marks[index])
            if doc.ok((*hook_path, "name")) and "name" in hook:
                if hook["name"] in sites:
                    message = (
                        f"webhook '{hook['name']}' of organization '{org_name}' is already defined at "
                        f"{sites[hook['name']]}"
                    )
                    self._problem(doc.problem(hook_path, message, where=()))
                else:
                    sites[hook["name"]] = location
            webhook = self._webhook(doc, hook_path, hook, caps, location, unsupported, index in interpolated)
            if webhook is None:
                continue
            result.append(webhook)
            if caps is not None and caps.one_webhook_per_url:
                first = by_url.setdefault(webhook.url, webhook)
                if first is not webhook:  # the URL itself is not shown: it may come from ${env:...}
                    message = (
                        f"the same url as webhook '{first.name}' at {first.location}: "
                        f"{caps.name} allows one webhook per URL (it answers 409)"
                    )
                    self._problem(doc.problem((*hook_path, "url"), message))
        self._check_previously(doc, (*path, "webhooks"), hooks, sites)
        if caps is not None:
            self._manifest_only_fields(doc, path, hooks, caps)
        return tuple(result)

    def _manifest_only_fields(self, doc: Document, path: Path, hooks: YSeq, caps: Capabilities) -> None:
        """contract §2: a field the provider cannot store never passes silently. One warning per org, at the first
        webhook that sets it, naming them all: the manifest stays valid (the field documents the webhook)."""
        if caps.has_description:
            return
        described = [i for i, hook in enumerate(hooks) if isinstance(hook, YMap) and "description" in hook]
        if not described:
            return
        names = ", ".join(str(hooks[i].get("name", f"#{i + 1}")) for i in described)
        keepers = ", ".join(c.name for c in CAPABILITIES.values() if c.has_description)
        message = (
            f"'description' of webhook(s) {names} stays in the manifest only: {caps.name} has no description "
            f"field (only {keepers} stores it)"
        )
        first = (*path, "webhooks", described[0], "description")
        self.warnings.append(doc.problem(first, message, key=True, where=path))

    def _check_previously(self, doc: Document, path: Path, hooks: YSeq, sites: dict[str, Location]) -> None:
        """An earlier name must not be a declared webhook's name, nor be claimed by two webhooks."""
        claimed: dict[str, str] = {}  # earlier name -> webhook claiming it
        for index, hook in enumerate(hooks):
            names_path = (*path, index, "previously")
            if not isinstance(hook, YMap) or "previously" not in hook or not doc.ok(names_path):
                continue
            for position, old in enumerate(hook["previously"]):
                item = (*names_path, position)
                if old in sites and old != hook.get("name"):
                    message = f"'{old}' is the name of another webhook of this organization, at {sites[old]}"
                    self._problem(doc.problem(item, message))
                elif old in claimed and claimed[old] != hook.get("name"):
                    message = f"'{old}' is already an earlier name of webhook '{claimed[old]}'"
                    self._problem(doc.problem(item, message))
                else:
                    claimed[old] = hook.get("name", "")

    def _webhook(
        self,
        doc: Document,
        path: Path,
        raw: YMap,
        caps: Capabilities | None,
        location: Location,
        unsupported: list[str],
        interpolated: bool,
    ) -> DesiredWebhook | None:
        url = self._webhook_url(doc, path, raw, caps)
        events = self._events(doc, path, raw, caps)
        if caps is not None:
            if raw.get("active") is False and not caps.pausable:
                message = f"{caps.name} webhooks cannot be paused; remove 'active: false' (or the webhook)"
                self._problem(doc.problem((*path, "active"), message))
            for option in unsupported:
                if option in raw:
                    self._problem(doc.problem((*path, option), f"'{option}' is not supported by {caps.name}", key=True))
        name = raw.get("name")
        if url is None or not isinstance(name, str) or not doc.ok(path):
            return None
        rotate = raw.get("rotate_after")
        origin = doc.foreign.get(path) if doc.foreign else None
        return DesiredWebhook(
            name=name,
            url=url,
            events=events,
            active=raw.get("active", True),
            description=raw.get("description"),
            protect=raw.get("protect", False),
            previously=tuple(raw.get("previously", ())),
            verify_tls=raw.get("verify_tls"),
            rotate_after_days=int(rotate[:-1]) * _DAYS_PER_UNIT[rotate[-1]] if rotate else None,
            masked=frozenset(key for key in MASKED_FIELDS if (*path, key) in doc.refs) if interpolated else _NONE,
            webhook_set=str(origin.path[1]) if origin is not None else None,
            location=location,
        )

    def _webhook_url(self, doc: Document, path: Path, raw: YMap, caps: Capabilities | None) -> str | None:
        url_path = (*path, "url")
        if "url" not in raw or not doc.ok(url_path):
            return None
        url: str = raw["url"]
        problem = _url_problem(doc, url_path, url)
        if problem is not None:
            self._problem(problem)
            return None
        if caps is not None and caps.https_only and url.lower().startswith("http://"):
            self._problem(doc.problem(url_path, f"'url' must use https://: {caps.name} only delivers to HTTPS"))
        for policy in self._policies():
            for message in policy_violations(url, policy, masked=url_path in doc.refs):
                self._problem(doc.problem(url_path, message))
        return url

    def _events(self, doc: Document, path: Path, raw: YMap, caps: Capabilities | None) -> frozenset[str] | None:
        events_path = (*path, "events")
        if "events" not in raw or caps is None or not doc.ok(events_path):
            return None
        events: list[str] = raw["events"]
        if caps.events is None:
            self._problem(doc.problem(events_path, f"{caps.name} webhooks receive every event; remove 'events'"))
            return None
        if not events:
            if not caps.empty_events_means_all:
                message = f"{caps.name} needs at least one event; omit 'events' to receive every event"
                self._problem(doc.problem(events_path, message))
            return None  # the provider's `[]` and an omitted list are the same state
        for index, event in enumerate(events):
            if event not in caps.events:
                item = (*events_path, index)
                self._problem(doc.problem(item, _unknown_event(caps, event, shown=item not in doc.refs)))
        return frozenset(events)


def _unknown_event(caps: Capabilities, event: str, *, shown: bool) -> str:
    catalog: Any = sorted(caps.events or ())
    close = difflib.get_close_matches(event, catalog, n=1) if shown else []
    head = f"unknown {caps.name} event" + (f" '{event}'" if shown else "")
    if close:
        return f"{head}; did you mean '{close[0]}'?"
    return f"{head}; {caps.name} events are: {', '.join(catalog)}"


def _not_installed(kind: str, value: str, installed: list[str], doc: Document, path: Path) -> str:
    """contract §8: an unknown provider or store type lists the installed ones. A value from the environment is
    not shown, nor what it nearly is."""
    import difflib

    names = ", ".join(installed)
    if path in doc.refs:
        return f"'{path[-1]}' (from ${{env:{doc.refs[path][0]}}}) must be one of the installed {kind}: {names}"
    close = difflib.get_close_matches(value, installed, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"'{path[-1]}' must be one of the installed {kind}: {names}{hint}"
