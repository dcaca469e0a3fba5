"""PostgreSQL's bulk path for writing a page of records: one set-based statement.

Per-row statements (even pipelined) cost a round of parsing and planning per record; here
the whole page is one ``INSERT ... ON CONFLICT DO UPDATE`` — one round trip. Its rows come
from ``ROWS FROM``, zipping binary text arrays (ids, hashes, updated-ats) with the elements
of one JSON array of the bodies: one ``json.dumps`` per page costs the client a third of
one per record, and the server slices the array instead of building a record per object
(``json_to_recordset`` did). Conflicts resolve through the primary key row by row, so the
cost does not depend on table statistics or on how many records the connection already
has. Unchanged rows (same content hash) keep their ``updated_at``; an incremental run skips
them entirely (the ``WHERE`` of the update), a full run stamps them as seen by the run (for
delete detection). Only the counts come back: inserts (``xmax = 0``) and real changes
(``updated_at`` is this page's time). Same results and counts as the portable path in
:mod:`storage.repositories.records` — the sync tests run on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

_CHANGED = "(r.content_hash <> EXCLUDED.content_hash OR r.deleted_at IS NOT NULL)"
_MERGE = f"""
WITH written AS (
    INSERT INTO records AS r (connection_id, model, external_id, org_id, data, content_hash,
        provider_updated_at, seen_run_id, first_seen_at, last_seen_at, updated_at, deleted_at)
    SELECT %(conn)s, %(model)s, s.external_id, %(org)s, s.data, s.content_hash,
        s.provider_updated_at, %(run)s, %(now)s, %(now)s, %(now)s, NULL
    FROM ROWS FROM (unnest(%(ids)b::text[]), json_array_elements(%(bodies)s::json),
        unnest(%(hashes)b::text[]), unnest(%(updated)b::text[]))
        AS s(external_id, data, content_hash, provider_updated_at)
    ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
        data = EXCLUDED.data,
        content_hash = EXCLUDED.content_hash,
        provider_updated_at = EXCLUDED.provider_updated_at,
        seen_run_id = EXCLUDED.seen_run_id,
        last_seen_at = EXCLUDED.last_seen_at,
        updated_at = CASE WHEN {_CHANGED} THEN EXCLUDED.updated_at ELSE r.updated_at END,
        deleted_at = NULL
    WHERE r.org_id = EXCLUDED.org_id AND (%(touch)s OR {_CHANGED})
    RETURNING xmax = 0 AS added, updated_at = %(now)s AS changed
)
SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE changed AND NOT added)
FROM written
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
    params = {
        "conn": connection_id,
        "model": model,
        "org": org_id,
        "run": run_id,
        "now": now,
        "touch": touch_unchanged,
        "ids": [row.external_id for row in rows],
        "bodies": json.dumps([row.data for row in rows]),
        "hashes": [row.content_hash for row in rows],
        "updated": [row.provider_updated_at for row in rows],
    }
    added, updated = session.connection().exec_driver_sql(_MERGE, params).one()
    return int(added), int(updated)
