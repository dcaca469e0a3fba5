"""API-key authentication: each key is scoped to one organization, or is an admin key.

Keys travel as ``Authorization: Bearer sy_...`` (or ``X-API-Key``); only their SHA-256 is
stored, so a leaked database does not leak usable keys.

Each process remembers a key it authenticated for ``api.auth_cache_seconds`` (by hash, never
the key itself), so most requests do not touch the database and a PostgreSQL blip does not
fail callers whose keys were seen recently. The price: a revoked key keeps working for up to
that long on a process that has it cached. Unknown keys are not remembered (a key just issued
works at once). A cache miss while the database is unreachable answers 503 (see
:mod:`switchyard.api.outages`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from storage.repositories.api_keys import ApiKeyRepository, hash_api_key
from switchyard.runtime import Runtime


@dataclass(frozen=True)
class Principal:
    """Who is calling: an org-scoped key (``org_id`` set) or an admin key."""

    key_id: str
    org_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.org_id is None

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_id}"

    def org_for(self, requested: str | None) -> str:
        """The org a request acts on: its own for org keys; admin keys must name one."""
        if self.org_id is None:
            if requested is None:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    detail=[{"field": "org_id", "message": "required with an admin key"}],
                )
            return requested
        if requested is not None and requested != self.org_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this key cannot act on that org")
        return self.org_id


class KeyCache:
    """Principals of recently authenticated keys, by key hash, for ``ttl_seconds`` (0: off).

    Bounded: past ``max_entries`` the least recently used entry goes. Thread-safe (sync
    dependencies run in the threadpool).
    """

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> Principal | None:
        with self._lock:
            hit = self._entries.get(key_hash)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._entries[key_hash]
                return None
            self._entries.move_to_end(key_hash)
            return hit[1]

    def put(self, key_hash: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key_hash] = (self._clock() + self.ttl, principal)
            self._entries.move_to_end(key_hash)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or None


def authenticate(request: Request, runtime: Annotated[Runtime, Depends(runtime_of)]) -> Principal:
    """Resolve the caller's key or answer 401 (missing, unknown or revoked alike)."""
    presented = _presented_key(request)
    if presented is None:
        raise _unauthorized("missing API key: send Authorization: Bearer <key>")
    cache: KeyCache = request.app.state.key_cache
    key_hash = hash_api_key(presented)
    principal = cache.get(key_hash)
    if principal is not None:
        return principal
    with runtime.sessions.begin() as session:
        key = ApiKeyRepository(session).authenticate(presented)
        if key is None:
            raise _unauthorized("invalid or revoked API key")
        principal = Principal(key_id=key.id, org_id=key.org_id)
    cache.put(key_hash, principal)
    return principal


def require_admin(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    if not principal.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="admin key required")
    return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
CurrentRuntime = Annotated[Runtime, Depends(runtime_of)]
