"""The product's capability table against the emulators' own copies of the vendors' facts (contract §8).

Both are written from the vendors' documents, each without reading the other. Where they disagree, one of them
is wrong: before, a misspelt event in the product's table was shared by validation, planner, adapter and
emulator alike, and the whole suite stayed green.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.core.capabilities import Capabilities
from reconciler.devtools.conformance import differences, lifecycle, pairs
from reconciler.plugins import CAPABILITIES
from reconciler.providers.capabilities import INGATE, PROVIDER_NAMES
from reconciler.sandbox import Faults, Sandbox, ingate
from reconciler.sandbox.registry import SPECS


def test_the_product_and_the_sandbox_know_the_same_providers() -> None:
    assert tuple(SPECS) == PROVIDER_NAMES


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_each_built_in_adapter_passes_the_conformance_lifecycle(sandbox: Sandbox, provider: str) -> None:
    """The kit a plugin author runs (reconciler/devtools/conformance.py), on the built-ins and their emulators."""
    sandbox.set_faults(Faults(encrata_rate_limit=None))
    assert lifecycle(provider, sandbox.base_url(provider), "sandbox-token") == []


@pytest.mark.parametrize("provider", PROVIDER_NAMES)
def test_the_product_table_agrees_with_the_emulator(provider: str) -> None:
    assert differences(CAPABILITIES[provider], SPECS[provider].facts) == []


def test_every_capability_is_compared() -> None:
    """A capability added to the table without a counterpart in the emulators' facts fails here."""
    compared = set(pairs(INGATE, ingate.FACTS)) | {"name"}
    assert compared == {f.name for f in dataclasses.fields(Capabilities)}


def _misspelt(events: frozenset[str] | None) -> frozenset[str]:
    assert events is not None and "key.rotate" in events
    return (events - {"key.rotate"}) | {"key.rotated"}


def test_a_wrong_event_name_in_the_product_table_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dataclasses.replace(INGATE, events=_misspelt(INGATE.events))
    assert differences(wrong, ingate.FACTS) == [
        "events: only in the product: key.rotated; only in the emulator: key.rotate"
    ]
    # The comparison test itself, run against the corrupted table, fails and names the event.
    monkeypatch.setitem(globals(), "CAPABILITIES", {**CAPABILITIES, "ingate": wrong})
    with pytest.raises(AssertionError, match=r"only in the product: key\.rotated;"):
        test_the_product_table_agrees_with_the_emulator("ingate")


def test_a_wrong_event_name_in_an_emulator_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dataclasses.replace(ingate.FACTS, events=_misspelt(ingate.FACTS.events))
    assert differences(INGATE, wrong) == ["events: only in the product: key.rotate; only in the emulator: key.rotated"]
    monkeypatch.setitem(SPECS, "ingate", dataclasses.replace(ingate.SPEC, facts=wrong))
    with pytest.raises(AssertionError, match=r"only in the emulator: key\.rotated"):
        test_the_product_table_agrees_with_the_emulator("ingate")


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
