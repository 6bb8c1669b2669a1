"""What a provider's API can do, as data: validation, planner and applier read this, never provider names.

Part of the plugin interface: a provider plugin declares its Capabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Capabilities:
    name: str
    default_base_url: str | None
    events: frozenset[str] | None  # the catalog; None: the API has no events field (all events)
    empty_events_means_all: bool  # the API takes `[]` (and an omitted list) as "all events"
    label_field: str | None  # a name-like field that identifies a webhook (contract §3 rule 2)
    has_description: bool  # a free-text field the manifest's `description` maps to
    pausable: bool  # has an active/enabled flag; otherwise `active: false` is refused
    client_secret: Literal["never", "optional", "required"]
    rotate_in_place: bool
    test: Literal["none", "webhook", "all"]
    deliveries: bool
    https_only: bool
    options: frozenset[str]  # provider-only webhook fields the manifest may set
    requests_per_minute: int | None  # documented rate limit, if any
    one_webhook_per_url: bool = False  # a second webhook with the same URL is refused (Encrata: 409 duplicate)
    # Documented API hosts beside the default base URL's: with a policy, a base_url may name these unlisted.
    api_hosts: frozenset[str] = frozenset()
