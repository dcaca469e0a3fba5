"""The filters of the mapping template language: a fixed table of small pure functions.

Each takes the value and literal arguments from the template; a value a filter cannot
handle raises :class:`FilterError` (the step then dead-letters with that reason: the data
does not fit the mapping, and retrying will not change it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import phonenumbers


class FilterError(ValueError):
    """A filter was given a value it cannot transform."""


def e164(value: Any, region: str = "US") -> str | None:
    """A phone number as ``+<country><number>``; national numbers use ``region``.

    Parsing is Google's libphonenumber (``phonenumbers``): trunk prefixes differ by country
    (Italy keeps its leading 0: ``06 1234 5678`` is ``+390612345678``), so no hand-made
    table can get every region right. A leading ``00`` is read as the international prefix.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise FilterError(f"unknown region {region!r}: expected an ISO 3166 code such as 'US'")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        raise FilterError(f"{str(value)!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise FilterError(f"{str(value)!r} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
