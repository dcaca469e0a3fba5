"""How long a process waits for Redis or PostgreSQL before it calls them unreachable.

Without these a hung server (stopped, or its packets dropped) hangs every API request and job
that touches it forever; with them the call fails with the driver's timeout error, which the
API answers as a JSON 503 with ``Retry-After`` (:mod:`switchyard.api.outages`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class TimeoutSettings(BaseModel):
    """Connect and socket timeouts of the Redis client and the database engine."""

    redis_connect_seconds: float = Field(
        default=5.0, gt=0, le=300, description="Longest wait to open a connection to Redis."
    )
    redis_socket_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Longest wait for Redis to answer one command; must exceed the slowest "
        "command (no Switchyard or Dramatiq call blocks on Redis).",
    )
    database_connect_seconds: int = Field(
        default=5,
        ge=2,
        le=300,
        description="Longest wait to open a database connection (libpq `connect_timeout`; "
        "PostgreSQL only).",
    )
