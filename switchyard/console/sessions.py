"""Console sessions: an API key is exchanged once for a random session token kept in Redis.

The browser holds only the token (an HttpOnly cookie); Redis holds its SHA-256, so a copy of
Redis does not hold usable cookies. Every key this module touches is
``{namespace}:console:session:<sha256 of token>`` (a hash: ``key_id``, ``org_id``, ``csrf``),
expiring with the session — expiry is Redis's own TTL, and revoking deletes the key. A
session also ends the moment its API key is revoked (checked on every request).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from redis import Redis

from queueing import keys

DEFAULT_LIFETIME = timedelta(hours=8)
"""How long a console session lasts after sign-in (an operator's working day)."""


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in operator: the API key it came from, its org (None: admin), its CSRF token."""

    key_id: str
    org_id: str | None
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.org_id is None

    @property
    def actor(self) -> str:
        """How the audit trail names who acted: the key, through the console."""
        return f"console:api-key:{self.key_id}"


def session_key(namespace: str, token: str) -> str:
    """The one Redis key of a session (by the token's hash, never the token)."""
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return keys.console_session(namespace, digest)


class SessionStore:
    """Create, read and revoke console sessions in Redis."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace

    def create(
        self, key_id: str, org_id: str | None, *, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> str:
        """A new session for the key; returns the token to put in the cookie."""
        token = secrets.token_urlsafe(32)
        key = session_key(self._namespace, token)
        fields = {"key_id": key_id, "org_id": org_id or "", "csrf": secrets.token_urlsafe(32)}
        pipe = self._redis.pipeline(transaction=True)
        for name, value in fields.items():
            pipe.hset(key, name, value)
        pipe.pexpire(key, max(1, int(lifetime.total_seconds() * 1000)))
        pipe.execute()
        return token

    def get(self, token: str) -> ConsoleSession | None:
        """The live session of ``token``, or None (unknown, expired or revoked)."""
        if not token or len(token) > 100:
            return None
        raw = self._redis.hgetall(session_key(self._namespace, token))
        if not raw:
            return None
        data = {_text(k): _text(v) for k, v in dict(raw).items()}
        return ConsoleSession(data["key_id"], data["org_id"] or None, data["csrf"])

    def revoke(self, token: str) -> None:
        """End the session now (sign-out)."""
        self._redis.delete(session_key(self._namespace, token))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
