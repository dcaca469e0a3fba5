"""Which account a job's connection belongs to: the input of its rate-limit key.

Looked up per job, so it is cached briefly per process: connections change rarely, and a
stale entry for a few seconds only means a key computed as it was a moment ago.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from storage.errors import NotFoundError
from storage.repositories.connections import ConnectionRepository
from storage.ttl_cache import TtlCache


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
        self._cache: TtlCache[tuple[str, str, str], AccountInfo] = TtlCache(self.TTL_SECONDS)

    def lookup(self, org_id: str, provider: str, connection: str) -> AccountInfo:
        key = (org_id, provider, connection)
        info = self._cache.get_or_load(key, lambda: self._load(org_id, provider, connection))
        assert info is not None  # _load never returns None
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
