"""The field-mapping template language: paths, filters, types, and refusals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from routes.templates import TemplateError, parse, render_value

CONTEXT: dict[str, Any] = {
    "event": {"id": "e1", "type": "QR_SCANNED", "created_at": "2026-11-23T10:15:00+00:00"},
    "data": {"email": "Ada@Example.COM", "phone": "(415) 555-0100", "count": 3, "tags": ["a", "b"]},
    "steps": {"contact": {"id": "42"}, "0": {"id": "42"}},
}


def render(text: str) -> Any:
    return parse(text).render(CONTEXT)


def test_single_placeholder_keeps_the_value_type() -> None:
    """A template that is one placeholder yields the value itself (a number stays one)."""
    assert render("{{ data.count }}") == 3
    assert render("{{ data.tags }}") == ["a", "b"]


def test_text_around_placeholders_makes_a_string() -> None:
    """Mixed text renders to a string; a missing value renders empty."""
    assert render("Scans: {{ data.count }}{{ data.nothing }}") == "Scans: 3"


def test_filters_chain_left_to_right() -> None:
    """lower, upper, default, e164, date and join do what their names say."""
    assert render("{{ data.email | lower }}") == "ada@example.com"
    assert render("{{ data.email | upper }}") == "ADA@EXAMPLE.COM"
    assert render("{{ data.city | default('HQ') | upper }}") == "HQ"
    assert render("{{ data.phone | e164('US') }}") == "+14155550100"
    assert render("{{ event.created_at | date('%d/%m/%Y') }}") == "23/11/2026"
    assert render("{{ data.tags | join('; ') }}") == "a; b"


def test_earlier_step_outputs_are_addressable_by_name_and_position() -> None:
    """steps.<name>.<output> and steps.<n>.<output> both read an earlier output."""
    assert render("{{ steps.contact.id }}") == render("{{ steps.0.id }}") == "42"


def test_e164_understands_international_and_national_forms() -> None:
    """+ and 00 prefixes keep their country; national numbers get the region's code."""
    assert (
        parse("{{ data.p | e164 }}").render({"data": {"p": "+44 20 7946 0958"}}) == "+442079460958"
    )
    assert (
        parse("{{ data.p | e164('GB') }}").render({"data": {"p": "020 7946 0958"}})
        == "+442079460958"
    )
    assert parse("{{ data.p | e164 }}").render({"data": {"p": "0049 30 123456"}}) == "+4930123456"


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("06 1234 5678", "IT", "+390612345678"),
        ("+39 06 1234 5678", "US", "+390612345678"),
        ("0612 345 678", "NL", "+31612345678"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("03-1234-5678", "JP", "+81312345678"),
    ],
)
def test_e164_follows_each_countrys_own_numbering(number: str, region: str, expected: str) -> None:
    """Trunk prefixes are per country (Italy keeps its 0) and any ISO region is known."""
    template = parse("{{ data.p | e164('" + region + "') }}")
    assert template.render({"data": {"p": number}}) == expected


def test_e164_refuses_an_unknown_region_by_name() -> None:
    """A region that is not an ISO 3166 code is an error naming it."""
    with pytest.raises(TemplateError, match="'ZZ'"):
        parse("{{ data.p | e164('ZZ') }}").render({"data": {"p": "0612345678"}})


def test_a_value_a_filter_cannot_handle_is_a_template_error() -> None:
    """A non-phone for e164 or a non-date for date raises, naming the path and filter."""
    with pytest.raises(TemplateError, match=re.escape("data.email | e164")):
        render("{{ data.email | e164 }}")
    with pytest.raises(TemplateError, match="not a date"):
        render("{{ data.email | date }}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ data.email | lowercase }}", "unknown filter 'lowercase'"),
        ("{{ data..email }}", "bad path"),
        ("{{ data.__class__.__mro__ }}", "bad path"),
        ("{{ data.x | default(os.system) }}", "bad filter arguments"),
        ("{{ data.x | default('a) }}", "unterminated string"),
        ("{{ data.email }", "unbalanced braces"),
        ("{{ }}", "bad path"),
    ],
)
def test_malformed_templates_are_refused_at_parse_time(text: str, problem: str) -> None:
    """Typos and anything resembling code are errors when the mapping is saved."""
    with pytest.raises(TemplateError, match=re.escape(problem)):
        parse(text)


def test_nested_mappings_render_recursively() -> None:
    """Dicts and lists (a webhook body template) render every string inside them."""
    body = {"who": "{{ data.email | lower }}", "n": ["{{ data.count }}", 7], "fixed": True}
    assert render_value(body, CONTEXT) == {"who": "ada@example.com", "n": [3, 7], "fixed": True}
