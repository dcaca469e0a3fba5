"""Which account a job's connection belongs to: the input of its rate-limit key.

Looked up per job, so it is cached briefly per process: connections change rarely, and a
stale entry for a few seconds only means a key computed as it was a moment ago.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository


@dataclass(frozen=True)
class AccountInfo:
    """The connection's account identifiers and its stored rate-limit override, if any."""

    account: dict[str, str] = field(default_factory=dict)
    rate_limit_override: dict[str, Any] | None = None


class AccountDirectory:
    """Cached ``(org, provider, connection) -> AccountInfo`` lookups."""

    TTL_SECONDS = 30.0

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._cache: dict[tuple[str, str, str], tuple[float, AccountInfo]] = {}
        self._lock = threading.Lock()

    def lookup(self, org_id: str, provider: str, connection: str) -> AccountInfo:
        key = (org_id, provider, connection)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        info = self._load(org_id, provider, connection)
        with self._lock:
            self._cache[key] = (now + self.TTL_SECONDS, info)
        return info

    def _load(self, org_id: str, provider: str, connection: str) -> AccountInfo:
        with self.sessions() as session:
            try:
                row = ConnectionRepository(session, org_id).get_by_provider(provider, connection)
            except NotFoundError:
                return AccountInfo()
            account = {str(k): str(v) for k, v in (row.account_identifier or {}).items()}
            override = (row.config or {}).get("rate_limit")
            return AccountInfo(account=account, rate_limit_override=override)
