"""The conformance kit for provider plugins (contract §8; README "Writing a provider"): run it against an adapter
and its emulator. Two checks, each returning the problems found, one line each (empty: it conforms):

- `differences(capabilities, facts)`: the plugin's declared capabilities against its emulator's own copy of
  the API's facts. Both are written from the vendor's documents, each without reading the other, so a
  misspelt event or a wrong field in either one shows up here instead of being agreed on by both sides.
- `lifecycle(provider, base_url, token)`: the adapter against a running API (the sandbox serving the
  emulator): create, list, update, rotate where it can, delete, each checked through a fresh list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.core.capabilities import Capabilities
from reconciler.core.errors import ReconcilerError
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.sandbox.wire import ApiFacts

OPTION_FIELDS = {"verify_tls": "verifyTls"}  # a manifest option -> the API's own field name


def _client_secret(facts: ApiFacts) -> str:
    """The product's word for who makes the signing secret."""
    if facts.client_secret_field is None:
        return "never"
    return "optional" if facts.issues_secret else "required"


def pairs(caps: Capabilities, facts: ApiFacts) -> dict[str, tuple[Any, Any]]:
    """Each capability (by its field name) beside what the emulator's facts say it must be."""
    return {
        "default_base_url": (caps.default_base_url, facts.base_url),
        "events": (caps.events, facts.events),
        "empty_events_means_all": (caps.empty_events_means_all, facts.events is None or facts.min_events == 0),
        "label_field": (caps.label_field, facts.label_field),
        "has_description": (caps.has_description, facts.description_field is not None),
        "pausable": (caps.pausable, facts.active_field is not None),
        "client_secret": (caps.client_secret, _client_secret(facts)),
        "rotate_in_place": (caps.rotate_in_place, facts.rotates_in_place),
        "test": (caps.test, facts.test),
        "deliveries": (caps.deliveries, bool(facts.delivery_statuses)),
        "https_only": (caps.https_only, facts.https_only),
        "options": (frozenset(OPTION_FIELDS.get(o, o) for o in caps.options), facts.extra_fields),
        "requests_per_minute": (caps.requests_per_minute, facts.requests_per_minute),
        "one_webhook_per_url": (caps.one_webhook_per_url, facts.unique_urls),
        "api_hosts": (caps.api_hosts, facts.other_hosts),
    }


def _describe(name: str, product: Any, emulator: Any) -> str:
    if isinstance(product, frozenset) and isinstance(emulator, frozenset):
        only_product = ", ".join(sorted(product - emulator)) or "-"
        only_emulator = ", ".join(sorted(emulator - product)) or "-"
        return f"{name}: only in the product: {only_product}; only in the emulator: {only_emulator}"
    return f"{name}: the product says {product!r}, the emulator {emulator!r}"


def differences(caps: Capabilities, facts: ApiFacts) -> list[str]:
    """Every fact the two copies disagree on, one line each; empty when they agree."""
    return [_describe(name, p, e) for name, (p, e) in pairs(caps, facts).items() if p != e]


def lifecycle(provider: str, base_url: str, token: str, *, url: str = "https://hooks.conformance.example") -> list[str]:
    """Drive the installed provider's adapter through a webhook's life against the API at `base_url` (an
    account with no webhooks): every step's result is checked through a fresh `list()`."""
    from reconciler.plugins import open_provider

    adapter = open_provider(provider, base_url, Secret(token), read_only=False)
    caps = adapter.capabilities
    problems: list[str] = []

    def check(step: str, condition: Callable[[], bool], why: str) -> None:
        try:
            if not condition():
                problems.append(f"{step}: {why}")
        except ReconcilerError as exc:
            problems.append(f"{step}: {exc}")

    events = frozenset(sorted(caps.events)[:1]) if caps.events else None
    hook = DesiredWebhook("conformance", f"{url}/one", events)
    supplied = Secret.generate() if caps.client_secret == "required" else None
    try:
        live, secret = adapter.create(hook, supplied)
    except ReconcilerError as exc:
        return [f"create: {exc}"]
    check("create", lambda: bool(secret.reveal()), "no signing secret returned")
    check("create", lambda: _one(adapter.list(), live.id, hook, caps), "the list does not show the webhook as created")
    changed = DesiredWebhook("conformance", f"{url}/two", events, active=not caps.pausable)
    try:
        adapter.update(live, changed)
    except ReconcilerError as exc:
        problems.append(f"update: {exc}")
    check("update", lambda: _one(adapter.list(), live.id, changed, caps), "the list does not show the update")
    if caps.rotate_in_place:
        new = Secret.generate() if caps.client_secret == "required" else None
        check("rotate", lambda: adapter.rotate(live, new).reveal() != secret.reveal(), "the secret did not change")
    try:
        adapter.delete(live.id)
    except ReconcilerError as exc:
        problems.append(f"delete: {exc}")
    check("delete", lambda: all(w.id != live.id for w in adapter.list()), "the webhook is still listed")
    return problems


def _one(listed: list[LiveWebhook], webhook_id: str, hook: DesiredWebhook, caps: Capabilities) -> bool:
    found = [w for w in listed if w.id == webhook_id]
    if len(found) != 1:
        return False
    live = found[0]
    label_ok = caps.label_field is None or live.label == hook.name
    events_ok = hook.events is None or live.events is None or live.events == hook.events
    return live.url == hook.url and live.active == hook.active and label_ok and events_ok
