"""PostgreSQL's bulk path for writing a page of records: one set-based statement.

Per-row statements (even pipelined) cost a round of parsing and planning per record; here
the whole page travels as one JSON parameter that ``json_to_recordset`` turns into the
rows of one ``INSERT ... ON CONFLICT DO UPDATE`` — one round trip, parsed by the server. Conflicts resolve
through the primary key row by row, so the cost does not depend on table statistics or on
how many records the connection already has. Unchanged rows (same content hash) keep their
``updated_at``; an incremental run skips them entirely (the ``WHERE`` of the update), a
full run stamps them as seen by the run (for delete detection). ``RETURNING`` tells
inserts (``xmax = 0``) from real changes (``updated_at`` is this page's time). Same results
and counts as the portable path in :mod:`storage.repositories.records` — the sync tests run
on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

_CHANGED = "(r.content_hash <> EXCLUDED.content_hash OR r.deleted_at IS NOT NULL)"
_MERGE = f"""
INSERT INTO records AS r (connection_id, model, external_id, org_id, data, content_hash,
    provider_updated_at, seen_run_id, first_seen_at, last_seen_at, updated_at, deleted_at)
SELECT %(conn)s, %(model)s, s.external_id, %(org)s, s.data, s.content_hash,
    s.provider_updated_at, %(run)s, %(now)s, %(now)s, %(now)s, NULL
FROM json_to_recordset(%(page)s::json) AS s(
    external_id varchar(255), data json, content_hash varchar(32), provider_updated_at varchar(64))
ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
    data = EXCLUDED.data,
    content_hash = EXCLUDED.content_hash,
    provider_updated_at = EXCLUDED.provider_updated_at,
    seen_run_id = EXCLUDED.seen_run_id,
    last_seen_at = EXCLUDED.last_seen_at,
    updated_at = CASE WHEN {_CHANGED} THEN EXCLUDED.updated_at ELSE r.updated_at END,
    deleted_at = NULL
WHERE r.org_id = EXCLUDED.org_id AND (%(touch)s OR {_CHANGED})
RETURNING xmax = 0, updated_at = %(now)s
"""  # noqa: S608 - only constants are formatted in; every value is a bound parameter


def merge_page(
    session: Session,
    *,
    org_id: str,
    connection_id: str,
    model: str,
    rows: Sequence[Any],
    run_id: str,
    now: datetime,
    touch_unchanged: bool,
) -> tuple[int, int]:
    """Write distinct-id ``rows`` (RecordRow) in the session's transaction: (added, updated)."""
    if not rows:
        return 0, 0
    raw: Any = session.connection().connection.driver_connection
    page = [
        {
            "external_id": row.external_id,
            "data": row.data,
            "content_hash": row.content_hash,
            "provider_updated_at": row.provider_updated_at,
        }
        for row in rows
    ]
    params = {
        "conn": connection_id,
        "model": model,
        "org": org_id,
        "run": run_id,
        "now": now,
        "touch": touch_unchanged,
        "page": json.dumps(page),
    }
    with raw.cursor() as cursor:
        cursor.execute(_MERGE, params)
        returned = cursor.fetchall()
    added = sum(1 for inserted, _ in returned if inserted)
    updated = sum(1 for inserted, changed in returned if changed and not inserted)
    return added, updated
