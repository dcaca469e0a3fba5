"""Migration 0014: existing deliveries take their event's time, which orders an endpoint's
pending deliveries from then on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import downgrade, upgrade

_ROWS = (
    "INSERT INTO organizations (id, name, weight, created_at) "
    "VALUES ('o', 'o', 1, CURRENT_TIMESTAMP)",
    "INSERT INTO webhook_endpoints (id, org_id, url, description, event_types, enabled, "
    "encrypted_secret, created_at, updated_at) VALUES ('w', 'o', 'https://x.test/h', '', '[]', "
    "1, 'v1:x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO events (id, org_id, type, data, source, created_at) VALUES "
    "('e1', 'o', 'a.b', '{}', 'api', '2026-01-02 03:04:05.000006'), "
    "('e2', 'o', 'a.b', '{}', 'api', '2026-01-01 00:00:00.000000')",
    "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, status, "
    "attempts, created_at, updated_at) VALUES "
    "('d1', 'o', 'w', 'e1', 'a.b', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
    "('d2', 'o', 'w', 'e2', 'a.b', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
)


def test_existing_deliveries_take_their_events_time(tmp_path: Path) -> None:
    """Each delivery's event_created_at is its event's created_at; downgrade drops it."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0011")
    engine = make_engine(url)
    with engine.begin() as db:
        for statement in _ROWS:
            db.execute(text(statement))
    upgrade(url, "0014")
    with engine.connect() as db:
        copied = db.execute(
            text(
                "SELECT d.id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
                "WHERE d.event_created_at = e.created_at ORDER BY d.event_created_at"
            )
        ).scalars()
        assert list(copied) == ["d2", "d1"]
    downgrade(url, "0011")
    engine.dispose()
