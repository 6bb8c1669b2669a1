"""The product's capability table against the emulators' own copies of the vendors' facts (SPEC §8).

Both are written from the vendors' documents, each without reading the other. Where they disagree, one of them
is wrong: before, a misspelt event in the product's table was shared by validation, planner, adapter and
emulator alike, and the whole suite stayed green.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.providers.capabilities import CAPABILITIES, INGATE, PROVIDER_NAMES, Capabilities
from reconciler.sandbox import ingate
from reconciler.sandbox.registry import SPECS
from reconciler.sandbox.wire import ApiFacts

OPTION_FIELDS = {"verify_tls": "verifyTls"}  # a manifest option -> the API's field


def _client_secret(facts: ApiFacts) -> str:
    """The product's word for who makes the signing secret."""
    if facts.client_secret_field is None:
        return "never"
    return "optional" if facts.issues_secret else "required"


def _pairs(caps: Capabilities, facts: ApiFacts) -> dict[str, tuple[Any, Any]]:
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
    }


def _describe(name: str, product: Any, emulator: Any) -> str:
    if isinstance(product, frozenset) and isinstance(emulator, frozenset):
        only_product = ", ".join(sorted(product - emulator)) or "-"
        only_emulator = ", ".join(sorted(emulator - product)) or "-"
        return f"{name}: only in the product: {only_product}; only in the emulator: {only_emulator}"
    return f"{name}: the product says {product!r}, the emulator {emulator!r}"


def differences(caps: Capabilities, facts: ApiFacts) -> list[str]:
    """Every fact the two copies disagree on, one line each; empty when they agree."""
    return [_describe(name, p, e) for name, (p, e) in _pairs(caps, facts).items() if p != e]


def test_the_product_and_the_sandbox_know_the_same_providers() -> None:
    assert tuple(SPECS) == PROVIDER_NAMES


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_the_product_table_agrees_with_the_emulator(provider: str) -> None:
    assert differences(CAPABILITIES[provider], SPECS[provider].facts) == []


def test_every_capability_is_compared() -> None:
    """A capability added to the table without a counterpart in the emulators' facts fails here."""
    compared = set(_pairs(INGATE, ingate.FACTS)) | {"name"}
    assert compared == {f.name for f in dataclasses.fields(Capabilities)}


def _misspelt(events: frozenset[str] | None) -> frozenset[str]:
    assert events is not None and "key.rotate" in events
    return (events - {"key.rotate"}) | {"key.rotated"}


def test_a_wrong_event_name_in_the_product_table_fails() -> None:
    wrong = dataclasses.replace(INGATE, events=_misspelt(INGATE.events))
    assert differences(wrong, ingate.FACTS) == [
        "events: only in the product: key.rotated; only in the emulator: key.rotate"
    ]


def test_a_wrong_event_name_in_an_emulator_fails() -> None:
    wrong = dataclasses.replace(ingate.FACTS, events=_misspelt(ingate.FACTS.events))
    assert differences(INGATE, wrong) == ["events: only in the product: key.rotate; only in the emulator: key.rotated"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"label_field": "name"}, "label_field: the product says None, the emulator 'name'"),
        ({"issues_secret": False, "client_secret_field": "secret"}, "client_secret: the product says 'never'"),
        ({"https_only": False}, "https_only: the product says True, the emulator False"),
        ({"delivery_statuses": frozenset({"success"})}, "deliveries: the product says False, the emulator True"),
        ({"events": None}, "events: the product says frozenset("),
    ],
)
def test_other_wrong_facts_fail_too(change: dict[str, Any], expected: str) -> None:
    assert any(d.startswith(expected) for d in differences(INGATE, dataclasses.replace(ingate.FACTS, **change)))
