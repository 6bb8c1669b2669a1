"""Frozen value types shared by manifest loading, planning, applying and rendering."""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Literal, TypeVar

from reconciler.core.errors import Problem
from reconciler.core.secret import Secret

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass that is built once per webhook an `__init__` that stores every field in one step.

    The dataclass's own stores them one `object.__setattr__` call at a time: 2.4 us for a DesiredWebhook's
    eleven fields, 1.2 us this way, so 18 ms less for the 10,000 desired and live webhooks of a large plan.
    Same signature and defaults; instances stay frozen, equal and hashable as before, since those come from
    the dataclass (tests/test_model.py compares the two). Positional-or-keyword fields with plain defaults
    only: anything else is refused here rather than built wrong."""
    params = list(fields(cls))  # type: ignore[arg-type]
    if any(not f.init or f.default_factory is not MISSING or f.kw_only for f in params) or hasattr(
        cls, "__post_init__"
    ):
        raise TypeError(f"quick_init: {cls.__name__} has a field it does not handle")
    signature = ", ".join(f.name if f.default is MISSING else f"{f.name}=_default_{f.name}" for f in params)
    stored = ", ".join(f"{f.name!r}: {f.name}" for f in params)
    namespace: dict[str, object] = {f"_default_{f.name}": f.default for f in params if f.default is not MISSING}
    # One dict, set as the instance's __dict__ (object.__setattr__ passes the frozen class's guard).
    source = f"def __init__(self, {signature}):\n    _set(self, '__dict__', {{{stored}}})\n"
    exec(source, {"_set": object.__setattr__}, namespace)  # as dataclasses build theirs
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[assignment]
    return cls


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# The webhook fields the renderers mask where they show them when the value came from ${env:...}
# (DesiredWebhook.masked -> FieldChange.masked): their values are not given to the last-line scrubber.
# An org's, webhook's or store's name (contract §2). The published schema says the same at `$defs/name`
# (tests/test_architecture.py compares them); `import` uses this one for names it derives from live labels.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

MASKED_FIELDS = ("url", "description")


@quick_init
@dataclass(frozen=True)
class DesiredWebhook:
    """One webhook as the manifest declares it, interpolated and validated."""

    name: str
    url: str
    events: frozenset[str] | None = None  # None: every event of the provider
    active: bool = True
    description: str | None = None
    protect: bool = False
    previously: tuple[str, ...] = ()
    verify_tls: bool | None = None  # Immuta only
    rotate_after_days: int | None = None
    # Fields whose value came from ${env:...}: compared and applied as is, never shown.
    masked: frozenset[str] = frozenset()
    # The webhook set it comes from (contract §2.1), for plans to say so; None for the org's own webhook.
    webhook_set: str | None = field(default=None, compare=False)
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Organization:
    """One account on one provider."""

    name: str
    provider: str
    base_url: str
    token: Secret = field(repr=False)
    secret_store: str
    prune: bool = False
    unmanaged: Literal["report", "ignore"] = "report"
    webhooks: tuple[DesiredWebhook, ...] = ()
    location: Location | None = field(default=None, compare=False)
    # The token's reference as written, `${env:NAME}` (never its value): with the provider, the org's
    # rate-limit group, which decides its shard (reconciler/core/shards.py).
    token_ref: str = field(default="", compare=False)
    # The name came from ${env:...}: never a metrics label (reconciler/render/metrics.py).
    name_from_env: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class StoreConfig:
    name: str
    type: str  # keyring, vault, or a plugin's (reconciler/plugins.py)
    service: str = "webhook-reconciler"  # keyring
    address: str | None = None  # vault
    token: Secret | None = field(default=None, repr=False)  # vault
    mount: str = "secret"  # vault
    path: str = "webhooks"  # vault


@dataclass(frozen=True)
class Policy:
    allowed_hosts: tuple[str, ...] | None = None  # None: any host
    allow_http: bool = False
    allow_private_addresses: bool = False
    allowed_api_hosts: tuple[str, ...] = ()  # beside each provider's documented API hosts
    name: str = "the policy"  # how messages call it: the manifests' policy, or the --policy file


@dataclass(frozen=True)
class PolicyFile:
    """The `--policy FILE` a run was given, as a saved plan records it."""

    path: str  # as given
    digest: str  # sha256 over its bytes, as the manifests' digest is made


@dataclass(frozen=True)
class OrgOutline:
    """What the manifests say of an organization without any `${env:}` value: its name, provider, token
    reference as written and secret store. Known also for an org that `validate --offline` cannot build (its
    token's variable not set): enough to find its lock (`unlock`) and its shard (`shards`)."""

    name: str
    provider: str
    token_ref: str
    secret_store: str | None  # None: it could not be read (an environment variable that is not set)


@dataclass(frozen=True)
class Manifest:
    """Everything the manifests declare, merged across files."""

    paths: tuple[str, ...]  # as the user gave them
    files: tuple[str, ...]  # the files actually read, in order
    digest: str  # sha256 over the files' bytes, in order
    stores: tuple[StoreConfig, ...]
    policy: Policy | None
    organizations: tuple[Organization, ...]
    # Not errors: a field a provider cannot store; with `validate --offline`, a variable that is not set.
    warnings: tuple[Problem, ...] = ()
    # Organizations and webhooks as written: with `validate --offline`, one whose value could not be read
    # (a variable not set) is counted here but not built.
    declared: tuple[int, int] = (0, 0)
    policy_file: PolicyFile | None = None  # `--policy FILE`, which the manifests' policy can only narrow
    # Each org's outline, built or not, and (store, variables) for each store left out because variables its
    # settings use are not set: loaded offline, what `unlock` and `shards` need, no API token.
    outlines: tuple[OrgOutline, ...] = ()
    unset_store_variables: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def outline(self, name: str) -> OrgOutline | None:
        return next((o for o in self.outlines if o.name == name), None)

    def store(self, name: str) -> StoreConfig:
        for store in self.stores:
            if store.name == name:
                return store
        raise KeyError(name)

    def org(self, name: str) -> Organization:
        for org in self.organizations:
            if org.name == name:
                return org
        raise KeyError(name)


@quick_init
@dataclass(frozen=True)
class LiveWebhook:
    """One webhook as the provider lists it, normalised by its adapter."""

    id: str
    url: str
    events: frozenset[str] | None = None  # None: every event (the provider's `[]`, or no events field)
    active: bool = True
    label: str | None = None  # the provider's label field (InfraAudit and Keeptrusts `name`)
    description: str | None = None
    verify_tls: bool | None = None
    created_at: str | None = None
    last_delivery_status: str | None = None  # InfraAudit
    suppressed: bool = False  # Immuta: deliveries paused by the service


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str | None
    status: str  # success | failed | pending
    response_status: int | None
    created_at: str | None


@dataclass(frozen=True)
class TestResult:
    ok: bool
    status_code: int | None
    message: str | None
    all_webhooks: bool = False  # Immuta tests every configured webhook at once


@dataclass(frozen=True)
class SecretRecord:
    """What a secret store keeps per webhook."""

    secret: Secret = field(repr=False)
    webhook_id: str
    provider: str
    url: str = field(repr=False)  # may itself carry a credential
    created_at: str
    rotated_at: str | None = None
    protect: bool = False

    @property
    def set_at(self) -> str:
        """When its secret was set: rotated, else created. ISO-8601 UTC stamps compare as strings."""
        return self.rotated_at or self.created_at


@dataclass(frozen=True)
class SecretAge:
    """When a webhook's stored secret was last set: `rotate_after` compares it with the clock."""

    webhook_id: str  # the id the record names: a rotation is due only for that live webhook
    since: str  # the record's `rotated_at`, else its `created_at`


@dataclass(frozen=True)
class IndexEntry:
    """One webhook of an org's index record: `<org>/_index`."""

    webhook_id: str  # "" while `pending` for a create whose id is not known yet
    protect: bool = False
    # A change that sets this webhook's secret was started and has not finished (a create, a rotation):
    # if the run stopped in between, the live webhook's secret may be one nobody stored.
    pending: bool = False
