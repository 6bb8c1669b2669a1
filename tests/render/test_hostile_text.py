"""Property tests over arbitrary provider strings (ids, labels, URLs, descriptions, vendor messages, delivery
details): no character that acts on a terminal reaches text output and no line is added; markdown rendered
by GitHub's cmark-gfm has exactly the elements and the text outside code that it has for harmless values."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core import neutral
from reconciler.core.plan import FieldChange, OrgPlan, Plan, Recorded, Unmanaged
from reconciler.core.report import DriftReport, OrgDrift, WebhookDrift
from reconciler.render import markdown, text
from tests.render.dom import outline, render

ATTACK_CHARACTERS = list("`\n\r\t\x00\x07\x1b\x7f\x85\x9b\u200b\u200f\u202e\u2066\u2028\ufeff<>|[]()!#*_@&:\\-= ~")
provider_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ATTACK_CHARACTERS)), max_size=40)
VALUES = 8
OWN_COLOUR = re.compile(r"\x1b\[(?:0|2|3[1235])m")


def harmless(values: list[str]) -> list[str]:
    return ["x" if v else "" for v in values]


def plan_of(v: list[str]) -> Plan:
    acme = OrgPlan(
        org="acme",
        provider="keeptrusts",
        changes=(
            Recorded(
                recorded="update",
                org="acme",
                webhook="good",
                webhook_id=v[0],
                fields=(
                    FieldChange("url", v[1], "https://hooks.acme.example/g"),
                    FieldChange("events", [v[2], "event.blocked"], ["event.blocked"]),
                    FieldChange("name", v[3], "good"),
                ),
            ),
            # An undeclared live webhook, pruned: its name is its label, or its id.
            Recorded(
                recorded="delete",
                org="acme",
                webhook=v[3] or v[0],
                webhook_id=v[0],
                fields=(FieldChange("url", v[1], None),),
            ),
        ),
        unmanaged=(Unmanaged(v[4], v[5], v[6] or None),),
        live_count=3,
    )
    broken = OrgPlan(org="broken", provider="encrata", error=f"could not read: encrata GET /x -> 400: {v[7]}")
    return Plan(("m.yaml",), "0" * 64, (acme, broken))


def drift_of(v: list[str]) -> DriftReport:
    acme, broken = plan_of(v).orgs
    note = WebhookDrift("good", v[0], "stale", "failing", f"last delivery {v[2]}")
    return DriftReport("0" * 64, (OrgDrift(acme, (note,)), OrgDrift(broken)), fail_on_delivery_errors=True)


def acting(output: str) -> list[str]:
    return [ch for ch in OWN_COLOUR.sub("", output) if ch != "\n" and neutral.text(ch) != ch]


@settings(max_examples=300, deadline=None)
@given(st.lists(provider_text, min_size=VALUES, max_size=VALUES))
def test_text_output_holds_no_control_character_and_no_extra_line(values: list[str]) -> None:
    for colour in (False, True):
        for rendered, reference in (
            (text.render_plan(plan_of(values), colour=colour), text.render_plan(plan_of(harmless(values)))),
            (text.render_drift(drift_of(values), colour=colour), text.render_drift(drift_of(harmless(values)))),
        ):
            assert acting(rendered) == []
            assert len(rendered.splitlines()) == len(reference.splitlines())


@settings(max_examples=300, deadline=None)
@given(st.lists(provider_text, min_size=VALUES, max_size=VALUES))
def test_rendered_markdown_has_only_the_elements_the_tool_wrote(values: list[str]) -> None:
    plan, plain_plan = markdown.render_plan(plan_of(values)), markdown.render_plan(plan_of(harmless(values)))
    assert outline(plan) == outline(plain_plan)
    drift, plain_drift = markdown.render_drift(drift_of(values)), markdown.render_drift(drift_of(harmless(values)))
    assert outline(drift) == outline(plain_drift)
    assert acting(plan) == [] and acting(drift) == []


@settings(max_examples=500, deadline=None)
@given(provider_text)
def test_a_code_span_closes_safely_whatever_the_value(value: str) -> None:
    """In a sentence of the tool's, the value renders as one code element showing exactly its escaped text."""
    rendered = render(f"before {neutral.code_span(value)} after\n")
    if not value:
        assert rendered == "<p>before (empty) after</p>\n"
        return
    found = re.fullmatch(r"<p>before <code>(.*)</code> after</p>\n", rendered, re.DOTALL)
    assert found is not None, rendered
    assert html.unescape(found.group(1)) == neutral.text(value)


@given(provider_text)
def test_escaping_keeps_printable_text_and_is_idempotent(value: str) -> None:
    shown = neutral.text(value)
    assert all(neutral.text(ch) == ch for ch in shown)  # nothing left to escape
    assert neutral.text(shown) == shown
    if value.isprintable():
        assert shown == value
