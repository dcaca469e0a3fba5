"""Argument checks shared by the repositories, raising errors that name the field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.errors import ConflictError, InvalidFieldError

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_LIST_LIMIT = 10_000


def require_match(field: str, value: str, pattern: re.Pattern[str]) -> str:
    """Return ``value`` if it matches ``pattern``; otherwise name the field and the rule."""
    if not isinstance(value, str) or not pattern.match(value):
        raise InvalidFieldError(field, f"{value!r} must match {pattern.pattern}")
    return value


def require_choice(field: str, value: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    allowed = tuple(choices)
    if value not in allowed:
        raise InvalidFieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def require_text(field: str, value: str, max_length: int) -> str:
    """Return ``value`` if it is non-blank and at most ``max_length`` characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidFieldError(field, f"must be 1 to {max_length} characters, not blank")
    return value


def require_aware(field: str, value: datetime | None) -> datetime | None:
    """Return ``value`` if None or timezone-aware: naive times have no defined instant."""
    if value is not None and value.utcoffset() is None:
        raise InvalidFieldError(field, "must be a timezone-aware datetime")
    return value


def require_limit(limit: int) -> int:
    """Return ``limit`` if it is a sensible page size."""
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidFieldError("limit", f"must be between 1 and {MAX_LIST_LIMIT}")
    return limit


def flush_unique(session: Session, entity: str, field: str, value: str) -> None:
    """Flush, turning a unique violation into ``ConflictError``.

    Callers check for duplicates first; this catches the race where two writers pass that
    check together. After it raises, the session's transaction must be rolled back.
    """
    try:
        session.flush()
    except IntegrityError as error:
        raise ConflictError(entity, field, value) from error
