"""Refresh intents of one org: the durable "this refresh token is being presented" mark.

The refresher marks the intent pending in a transaction of its own, committed before the
token request, and unmarks it when the outcome is stored, in the transaction that stores
it (:mod:`workers.token_refresh`). Pending at the credential's current version therefore means
the token request was interrupted (the process died) and the provider may have rotated
the refresh token.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import RefreshIntent
from storage.types import utcnow


class RefreshIntentRepository:
    """Mark, find and settle the refresh intents of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def begin(self, connection_id: str, version: int) -> None:
        """Mark the refresh token of credential ``version`` as presented now."""
        row = self._find(connection_id)
        if row is None:
            row = RefreshIntent(org_id=self._org_id, connection_id=connection_id, version=version)
            self._session.add(row)
        row.version, row.pending, row.started_at = version, True, utcnow()
        self._session.flush()

    def interrupted(self, connection_id: str, version: int) -> RefreshIntent | None:
        """The intent left pending at ``version`` (the credential's current one), if any."""
        row = self._find(connection_id)
        return row if row is not None and row.pending and row.version == version else None

    def settle(self, connection_id: str, version: int, *, rotated: bool | None = None) -> None:
        """The request presenting credential ``version``'s token has its outcome stored
        (``rotated``: whether the answer rotated the token; None leaves what was known)."""
        values: dict[str, object] = {"pending": False}
        if rotated is not None:
            values["rotates"] = rotated
        self._session.execute(
            update(RefreshIntent)
            .where(
                RefreshIntent.org_id == self._org_id,
                RefreshIntent.connection_id == connection_id,
                RefreshIntent.version == version,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )

    def _find(self, connection_id: str) -> RefreshIntent | None:
        return self._session.scalars(
            select(RefreshIntent)
            .where(
                RefreshIntent.org_id == self._org_id, RefreshIntent.connection_id == connection_id
            )
            .execution_options(populate_existing=True)
        ).one_or_none()
