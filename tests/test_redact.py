"""The redactor (every byte out passes `scrub`) and how the renderers show masked values."""

from __future__ import annotations

import logging
import uuid

import pytest

from reconciler.core.plan import FieldChange
from reconciler.core.redact import MASK, ScrubFilter, mask_userinfo, register, scrub
from reconciler.core.secret import Secret
from reconciler.render import values


def unique(prefix: str = "v") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:pw@hooks.example/x", "https://***@hooks.example/x"),
        ("https://token@hooks.example/x", "https://***@hooks.example/x"),
        ("https://u:p@ss@hooks.example/", "https://***@hooks.example/"),  # a raw `@` in the password
        ("https://hooks.example/x?email=a@b.example", "https://hooks.example/x?email=a@b.example"),
        ("https://hooks.example/x#a@b", "https://hooks.example/x#a@b"),
        ("https://token@hooks.example/x?q=a@b", "https://***@hooks.example/x?q=a@b"),
        (
            "to https://a:b@one.example and http://c:d@two.example.",
            "to https://***@one.example and http://***@two.example.",
        ),
        (
            '{"url":"https://hooks.example","mail":"a@b.example"}',
            '{"url":"https://hooks.example","mail":"a@b.example"}',
        ),
        ("mail bob@example.com, see https://hooks.example/", "mail bob@example.com, see https://hooks.example/"),
    ],
)
def test_mask_userinfo(text: str, expected: str) -> None:
    assert mask_userinfo(text) == expected


def test_registered_values_are_scrubbed_everywhere() -> None:
    value = unique("https://hooks.example/env")
    register(value)
    assert scrub(f"url: {value} and again {value}") == f"url: {MASK} and again {MASK}"


def test_longer_values_are_scrubbed_first() -> None:
    short = unique("s")
    register(short)
    register(short + "-longer")
    assert scrub(f"[{short}-longer]") == f"[{MASK}]"


def test_short_values_are_not_registered() -> None:
    register("abc")  # would mask ordinary words
    assert scrub("abc abcd") == "abc abcd"


def test_a_secret_registers_itself() -> None:
    raw = unique("whsec")
    secret = Secret(raw)
    assert raw not in f"{secret} {secret!r} {secret:>40}"
    assert scrub(f"leaked {raw}") == f"leaked {MASK}"


def test_log_records_are_scrubbed_with_their_arguments() -> None:
    raw = unique("token")
    Secret(raw)
    record = logging.LogRecord("reconciler", logging.DEBUG, __file__, 1, "sent %s to %s", (raw, "https://u:p@h/"), None)
    assert ScrubFilter().filter(record)
    assert record.getMessage() == f"sent {MASK} to https://***@h/"


@pytest.mark.parametrize(
    ("change", "shown_before", "shown_after", "saved_before", "saved_after"),
    [
        (FieldChange("url", "https://a.example/1", "https://a.example/2", masked=True), MASK, MASK, MASK, MASK),
        (FieldChange("url", None, "https://a.example/1", masked=True), "(none)", MASK, None, MASK),
        (FieldChange("url", "https://a.example/1", None, masked=True), MASK, "(none)", MASK, None),
        (
            FieldChange("url", "https://u:p@a.example/1", "https://a.example/1"),
            '"https://***@a.example/1"',
            '"https://a.example/1"',
            "https://***@a.example/1",
            "https://a.example/1",
        ),
        (FieldChange("events", ["a", "b"], None), "[a, b]", "(all events)", ["a", "b"], None),
        (FieldChange("active", True, False), "true", "false", True, False),
    ],
)
def test_field_values_as_shown_and_saved(
    change: FieldChange, shown_before: str, shown_after: str, saved_before: object, saved_after: object
) -> None:
    assert (values.before(change), values.after(change)) == (shown_before, shown_after)
    assert (values.saved(change, change.before), values.saved(change, change.after)) == (saved_before, saved_after)


def test_unmanaged_urls() -> None:
    assert values.url("https://a.example/x", masked=True) == MASK
    assert values.url("https://u:p@a.example/x", masked=False) == "https://***@a.example/x"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:p@ss@host.example/x", "https://***@host.example/x"),  # the last `@` of the authority
        ("see https://u:a@b@c@host.example/p@q?r=@#@ too", "see https://***@host.example/p@q?r=@#@ too"),
        ("https://host.example/path@x", "https://host.example/path@x"),  # an `@` in the path is data
        # A backslash ends the authority for browsers: the host stays visible, never hidden behind `***@`.
        ("https://evil.example\\@good.example/x", "https://evil.example\\@good.example/x"),
    ],
)
def test_one_userinfo_pattern_masks_all_of_a_password(text: str, shown: str) -> None:
    assert mask_userinfo(text) == shown
    assert scrub(text) == shown
