"""The filters of the mapping template language: a fixed table of small pure functions.

Each takes the value and literal arguments from the template; a value a filter cannot
handle raises :class:`FilterError` (the step then dead-letters with that reason: the data
does not fit the mapping, and retrying will not change it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


class FilterError(ValueError):
    """A filter was given a value it cannot transform."""


# Country calling codes and national trunk prefixes for e164(); extend as customers need.
CALLING_CODES = {
    "US": "1",
    "CA": "1",
    "GB": "44",
    "IE": "353",
    "DE": "49",
    "FR": "33",
    "ES": "34",
    "IT": "39",
    "NL": "31",
    "AU": "61",
    "NZ": "64",
    "IN": "91",
    "MX": "52",
    "BR": "55",
}


def e164(value: Any, region: str = "US") -> str | None:
    """A phone number as ``+<country><number>``; national numbers use ``region``."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    digits = re.sub(r"[^0-9]", "", text)
    code = CALLING_CODES.get(region.upper())
    if code is None:
        raise FilterError(f"unknown region {region!r}; known: {', '.join(sorted(CALLING_CODES))}")
    if text.startswith("+"):
        number = digits
    elif text.startswith("00"):
        number = digits[2:]
    elif code == "1" and len(digits) == 11 and digits.startswith("1"):
        number = digits
    else:
        number = code + digits.lstrip("0")
    if not 8 <= len(number) <= 15 or number.startswith("0"):
        raise FilterError(f"{text!r} is not a phone number")
    return "+" + number


def date(value: Any, fmt: str = "%Y-%m-%d") -> str | None:
    """A timestamp (ISO 8601 text, epoch seconds or datetime) formatted with ``fmt``
    (``strftime`` directives, or ``iso``)."""
    if value is None or value == "":
        return None
    moment = _datetime(value)
    return moment.isoformat() if fmt == "iso" else moment.strftime(fmt)


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{value!r} is not a date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(fn: Callable[[str], str]) -> Callable[[Any], str | None]:
    def apply(value: Any) -> str | None:
        return None if value is None else fn(str(value))

    return apply


def default(value: Any, fallback: Any = "") -> Any:
    """``fallback`` when the value is missing, null or empty text."""
    return fallback if value is None or value == "" else value


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise FilterError(f"{value!r} is not a number") from None


def to_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FilterError(f"{value!r} is not a number") from None


def truncate(value: Any, length: int = 255) -> str | None:
    return None if value is None else str(value)[: max(int(length), 0)]


def join(value: Any, separator: str = ", ") -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return str(value)
    return separator.join("" if v is None else str(v) for v in value)


FILTERS: dict[str, Callable[..., Any]] = {
    "lower": _text(str.lower),
    "upper": _text(str.upper),
    "trim": _text(str.strip),
    "title": _text(str.title),
    "string": _text(str),
    "default": default,
    "e164": e164,
    "date": date,
    "int": to_int,
    "float": to_float,
    "truncate": truncate,
    "join": join,
}
