"""Placeholders in catalog templates (URLs, rate-limit keys, credential injection).

Templates use ``str.format`` syntax with bare names only (``{shop}``), so that validating a
template is a matter of listing its names and comparing them with what the entry declares.
Attribute access, indexing and format specs are refused: they would let data reach into
Python objects.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from urllib.parse import quote

_FORMATTER = string.Formatter()
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateSyntaxError(ValueError):
    """A template is not ``str.format`` text with bare ``{name}`` placeholders."""


def placeholders(template: str) -> set[str]:
    """The placeholder names used by ``template``."""
    names: set[str] = set()
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateSyntaxError(f"bad template {template!r}: {exc}") from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise TemplateSyntaxError(
                f"bad placeholder {{{field}}} in {template!r}: use bare names like {{shop}}"
            )
        names.add(field)
    return names


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill ``template``; a missing value raises ``KeyError`` naming the placeholder."""
    missing = placeholders(template) - set(values)
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return template.format_map(dict(values))


def fill_path(template: str, values: Mapping[str, object]) -> tuple[str, set[str]]:
    """Fill the placeholders ``values`` names, URL-quoted, and return the names used.

    Quoting keeps a value one path segment: ``a/b`` or ``x?y`` must not change the request
    path. Placeholders without a value stay for a later step (the client fills account ones).
    """
    used: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        used.add(name)
        return quote(str(values[name]), safe="")

    return _PLACEHOLDER.sub(replace, template), used


def render_path(template: str, values: Mapping[str, str]) -> str:
    """Fill every placeholder of a URL path, URL-quoted; a missing value raises ``KeyError``."""
    missing = placeholders(template) - set(values)
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return fill_path(template, values)[0]
