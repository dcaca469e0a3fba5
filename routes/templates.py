"""The field-mapping template language: dotted paths and a few filters, nothing else.

``"{{ data.email | lower }}"``, ``"Scan at {{ data.location | default('HQ') }}"``,
``"{{ data.phone | e164('US') }}"``, ``"{{ event.created_at | date('%Y-%m-%d') }}"``,
``"{{ steps.contact.id }}"``. A string that is exactly one ``{{ ... }}`` keeps the value's
type (a number stays a number, a list a list); text around placeholders makes a string.

It is parsed by a small hand-written grammar — no ``eval``, no Jinja, no attribute access
on Python objects: a path only walks dicts and lists of JSON data, and filters are a fixed
table of pure functions. Templates are parsed when a route is saved, so a typo is an error
at save time, naming the field, not at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from routes.filters import FILTERS, FilterError

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_-]*|[0-9]+)$")
_FILTER = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_LITERAL = re.compile(
    r"""\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?[0-9]+(?:\.[0-9]+)?)|(true|false|null))\s*(,|$)"""
)
MAX_TEMPLATE = 5_000


class TemplateError(ValueError):
    """A template cannot be parsed (or a filter failed on a value at run time)."""


@dataclass(frozen=True)
class FilterCall:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Expression:
    """One ``{{ path | filter(args) ... }}``."""

    path: tuple[str, ...]
    filters: tuple[FilterCall, ...]

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        value = lookup(context, self.path)
        for call in self.filters:
            try:
                value = FILTERS[call.name](value, *call.args)
            except FilterError as exc:
                raise TemplateError(f"{'.'.join(self.path)} | {call.name}: {exc}") from None
        return value


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and expressions, alternating."""

    parts: tuple[str | Expression, ...]

    @property
    def expressions(self) -> list[Expression]:
        return [p for p in self.parts if isinstance(p, Expression)]

    def render(self, context: Mapping[str, Any]) -> Any:
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0].evaluate(context)
        out = []
        for part in self.parts:
            value = part.evaluate(context) if isinstance(part, Expression) else part
            out.append("" if value is None else str(value))
        return "".join(out)


def parse(text: str) -> Template:
    """Parse a template string, or raise :class:`TemplateError` saying what is wrong."""
    if len(text) > MAX_TEMPLATE:
        raise TemplateError(f"template longer than {MAX_TEMPLATE} characters")
    parts: list[str | Expression] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > position:
            parts.append(_literal_text(text[position : match.start()]))
        parts.append(_expression(match.group(1)))
        position = match.end()
    if position < len(text) or not parts:
        parts.append(_literal_text(text[position:]))
    return Template(tuple(parts))


def _literal_text(text: str) -> str:
    if "{{" in text or "}}" in text:
        raise TemplateError(f"unbalanced braces in {text!r}")
    return text


def _expression(source: str) -> Expression:
    path_text, *filter_texts = _split_pipes(source)
    path = tuple(path_text.strip().split("."))
    if not path_text.strip() or not all(_SEGMENT.match(segment) for segment in path):
        raise TemplateError(f"bad path {path_text.strip()!r}: use dotted names like data.email")
    return Expression(path, tuple(_filter(text) for text in filter_texts))


def _split_pipes(source: str) -> list[str]:
    """Split on ``|`` outside quotes."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in source:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "|":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quote:
        raise TemplateError(f"unterminated string in {source.strip()!r}")
    parts.append("".join(current))
    return parts


def _filter(text: str) -> FilterCall:
    match = _FILTER.match(text)
    if match is None:
        raise TemplateError(f"bad filter {text.strip()!r}")
    name, raw_args = match.group(1), match.group(2)
    if name not in FILTERS:
        known = ", ".join(sorted(FILTERS))
        raise TemplateError(f"unknown filter {name!r}; known: {known}")
    args = _arguments(raw_args) if raw_args and raw_args.strip() else ()
    return FilterCall(name, args)


def _arguments(text: str) -> tuple[Any, ...]:
    args: list[Any] = []
    position = 0
    while position < len(text):
        match = _LITERAL.match(text, position)
        if match is None or match.end() == position:
            raise TemplateError(f"bad filter arguments {text!r}: use quoted strings or numbers")
        double, single, number, keyword = match.group(1, 2, 3, 4)
        if double is not None or single is not None:
            raw = double if double is not None else single
            args.append(re.sub(r"\\(.)", r"\1", raw))
        elif number is not None:
            args.append(float(number) if "." in number else int(number))
        else:
            args.append({"true": True, "false": False, "null": None}[keyword])
        position = match.end()
    return tuple(args)


def lookup(value: Any, path: tuple[str, ...]) -> Any:
    """Walk JSON data along ``path``; a missing step gives None (``default`` fills it)."""
    for segment in path:
        if isinstance(value, Mapping):
            value = value.get(segment)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return None
    return value


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render a mapping value: strings as templates, dicts and lists recursively."""
    return walk(value, lambda text: parse(text).render(context))


def walk(value: Any, on_text: Callable[[str], Any]) -> Any:
    """Apply ``on_text`` to every string inside dicts and lists; other values as they are."""
    if isinstance(value, str):
        return on_text(value)
    if isinstance(value, Mapping):
        return {str(k): walk(v, on_text) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(item, on_text) for item in value]
    return value
