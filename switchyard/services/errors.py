"""The one error family services raise, so each front end maps it once.

    ServiceError            message for people; ``fields`` names each offending input
    ├── InvalidInput        inputs are malformed; ``errors`` names every one
    ├── Refused             well-formed, but cannot be honoured as given (an expired state)
    ├── NotFound            no such thing in the caller's scope (another org's is missing too)
    ├── Conflict            the request contradicts current state (a duplicate, a used code)
    ├── Forbidden           the caller may not do this
    └── ProviderFailed      the provider could not answer the request now

The HTTP API maps them to 422/400/404/409/403/502 in :mod:`switchyard.api.errors`; the CLI
prints them in :mod:`switchyard.cli.common`. Errors of the layers below (storage's
``NotFoundError``, the envelope's ``InvalidJobError``...) are translated by :func:`translated`
at a service's edge, so no front end catches them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from contract.envelope import FieldError, InvalidJobError
from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from workers.routing.definition import InvalidRouteError

P = ParamSpec("P")
T = TypeVar("T")


class ServiceError(Exception):
    """A use case refused; ``message`` is for people, ``fields`` names offending inputs."""

    def __init__(self, message: str, fields: Iterable[FieldError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.fields = list(fields)

    def __str__(self) -> str:
        """Each offending field with its problem, else the message (a one-line report)."""
        if not self.fields:
            return self.message
        return "; ".join(f"{f.field}: {f.message}" for f in self.fields)


class InvalidInput(ServiceError):
    """Inputs are malformed; ``errors`` (also ``fields``) names every one of them."""

    def __init__(self, errors: Sequence[FieldError], message: str | None = None) -> None:
        count = len(errors)
        super().__init__(message or f"{count} invalid field{'s' if count != 1 else ''}", errors)
        self.errors = list(errors)


class Refused(ServiceError):
    """Well-formed, but it cannot be honoured as given (unknown state, refused code)."""


class NotFound(ServiceError):
    """No such thing within the caller's scope."""


class Conflict(ServiceError):
    """The request contradicts the current state (a duplicate name, a delivery not failed)."""


class Forbidden(ServiceError):
    """The caller may not do this (an OAuth state issued to another organization)."""


class ProviderFailed(ServiceError):
    """The provider could not answer now; trying again later may succeed."""


def field_error(kind: type[ServiceError], field: str, message: str) -> ServiceError:
    """A refusal about one input, naming it: ``field_error(Conflict, "name", "is taken")``."""
    if kind is InvalidInput:
        return InvalidInput([FieldError(field, message)], message)
    return kind(message, [FieldError(field, message)])


def translate(exc: Exception) -> ServiceError | None:
    """The family member a lower layer's error means, or None when it is not a refusal."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, InvalidJobError | InvalidRouteError):
        return InvalidInput(exc.errors)
    if isinstance(exc, InvalidFieldError):
        return InvalidInput([FieldError(exc.field, exc.problem)])
    if isinstance(exc, NotFoundError):
        return NotFound(str(exc))
    if isinstance(exc, ConflictError):
        return Conflict(str(exc))
    return None


@contextmanager
def translating() -> Iterator[None]:
    """Re-raise the lower layers' refusals as the family (see :func:`translate`)."""
    try:
        yield
    except (InvalidJobError, InvalidRouteError, InvalidFieldError, NotFoundError) as exc:
        raise _translated(exc) from exc
    except ConflictError as exc:
        raise _translated(exc) from exc


def translated(fn: Callable[P, T]) -> Callable[P, T]:
    """A service entry point whose lower-layer refusals come out as the family."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translating():
            return fn(*args, **kwargs)

    return wrapper


def _translated(exc: Exception) -> ServiceError:
    mapped = translate(exc)
    assert mapped is not None
    return mapped
