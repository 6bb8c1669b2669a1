"""quick_init: the fast __init__ of the value types built per webhook behaves as the dataclass's own."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from reconciler.core.model import DesiredWebhook, LiveWebhook, Location, quick_init


@dataclasses.dataclass(frozen=True)
class Reference:
    id: str
    url: str
    events: frozenset[str] | None = None
    active: bool = True


# The same declaration, built fast.
Quick: Any = quick_init(
    dataclasses.make_dataclass("Quick", [(f.name, f.type, f) for f in dataclasses.fields(Reference)], frozen=True)
)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("1", "u"), {}),
        (("1",), {"url": "u", "active": False}),
        ((), {"id": "1", "url": "u", "events": frozenset("a")}),
    ],
)
def test_same_values_defaults_equality_and_hash(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    quick, reference = Quick(*args, **kwargs), Reference(*args, **kwargs)
    assert dataclasses.asdict(quick) == dataclasses.asdict(reference)
    assert quick == Quick(*args, **kwargs) and hash(quick) == hash(Quick(*args, **kwargs))
    assert repr(quick).split("(", 1)[1] == repr(reference).split("(", 1)[1]


def test_same_argument_errors() -> None:
    for bad in ((), ("1", "u", None, True, "extra")):
        with pytest.raises(TypeError):
            Quick(*bad)
    with pytest.raises(TypeError):
        Quick("1", "u", colour="red")


def test_still_frozen_and_replaceable() -> None:
    live = LiveWebhook("wh_1", "https://a.example", label="a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        live.url = "https://b.example"  # type: ignore[misc]
    moved = dataclasses.replace(live, url="https://b.example")
    assert (moved.id, moved.url, moved.label) == ("wh_1", "https://b.example", "a")
    assert pickle.loads(pickle.dumps(moved)) == moved


def test_location_is_left_out_of_equality_as_declared() -> None:
    one = DesiredWebhook("a", "https://a.example", location=Location("f.yaml", 1, 1))
    assert one == DesiredWebhook("a", "https://a.example", location=Location("g.yaml", 9, 9))


def test_refuses_what_it_would_build_wrong() -> None:
    @dataclasses.dataclass(frozen=True)
    class Factory:
        items: list[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="quick_init"):
        quick_init(Factory)
