"""Connection refusals: the :mod:`switchyard.services.errors` family, naming the field."""

from __future__ import annotations

from switchyard.services.errors import NotFound, ServiceError, field_error


def not_found(what: str, ident: str) -> ServiceError:
    return field_error(NotFound, what, f"no {what} {ident!r} in this org")
