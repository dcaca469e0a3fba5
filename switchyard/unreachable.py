"""Which exceptions mean "Redis or the database is unreachable right now".

One table for everything that treats an outage differently from a bug: the API answers them
with a JSON 503 (:mod:`switchyard.api.outages`), the log throttle collapses their repeats
(:mod:`switchyard.log_throttle`). They are what redis-py, Dramatiq's Redis broker and
SQLAlchemy raise while their server is down, restarting, loading or failing over.
"""

from __future__ import annotations

from dramatiq.errors import BrokerConnectionError
from redis import exceptions as redis_errors
from sqlalchemy import exc as database_errors

UNREACHABLE: dict[str, tuple[type[Exception], ...]] = {
    "redis": (
        redis_errors.ConnectionError,  # refused, reset, loading a dataset after a restart
        redis_errors.TimeoutError,
        redis_errors.ReadOnlyError,  # a replica during failover
        redis_errors.ClusterDownError,  # a cluster electing a new master (MasterDownError too)
        redis_errors.TryAgainError,  # a cluster moving slots
        BrokerConnectionError,  # Dramatiq's wrapper of the above (our broker is Redis)
    ),
    "database": (
        database_errors.OperationalError,  # refused, terminated, shutting down, locked
        database_errors.InterfaceError,
        database_errors.DisconnectionError,
        database_errors.TimeoutError,  # no pooled connection came free in time
    ),
}
"""The exceptions of an outage, by the dependency that is down."""

DEPENDENCY_NAMES = {"redis": "Redis", "database": "the database"}


class DependencyUnreachable(Exception):
    """An outage already handled, to log: names the dependency and the error on one line
    (:func:`describe`), and counts as that outage for the log throttle."""

    def __init__(self, dependency: str, error: BaseException) -> None:
        super().__init__(f"{DEPENDENCY_NAMES[dependency]} unreachable ({describe(error)})")
        self.dependency = dependency


def unreachable(error: BaseException) -> str | None:
    """The dependency (``redis``, ``database``) whose outage raised ``error``, or None.

    Follows ``__cause__``/``__context__`` a few levels, so a wrapper raised while handling
    an outage counts as that outage.
    """
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, DependencyUnreachable):
            return seen.dependency
        for dependency, errors in UNREACHABLE.items():
            if isinstance(seen, errors):
                return dependency
        seen = seen.__cause__ or seen.__context__
    return None


def describe(error: BaseException) -> str:
    """The error's class and first line, without SQLAlchemy's statement and parameters
    (which may hold request data): for a DBAPI error, the driver's own error."""
    cause = error.orig if isinstance(error, database_errors.DBAPIError) and error.orig else error
    first_line = (str(cause).strip().splitlines() or [""])[0][:200]
    return f"{type(cause).__name__}: {first_line}"
