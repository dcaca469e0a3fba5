"""Migration 0011: existing connections' routing accounts become proven only where one
connection alone claims them; contested claims route nothing until re-proven."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import downgrade, upgrade


def _row(org: str, provider: str, name: str, account: dict[str, str]) -> dict[str, str]:
    return {
        "id": uuid.uuid4().hex,
        "org": org,
        "provider": provider,
        "name": name,
        "account": json.dumps(account),
    }


def test_sole_claimants_become_legacy_owners_and_contested_claims_do_not(tmp_path: Path) -> None:
    """A shop held once is marked 'legacy'; a Stripe account two orgs claim is marked for none."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0010")
    engine = make_engine(url)
    rows = [
        _row("a" * 32, "shopify", "default", {"shop": "alone"}),
        _row("a" * 32, "stripe", "default", {"account_id": "acct_contested01"}),
        _row("b" * 32, "stripe", "default", {"account_id": "acct_contested01"}),
        _row("b" * 32, "calendly", "default", {}),
    ]
    with engine.begin() as db:
        for org in ("a" * 32, "b" * 32):
            db.execute(
                text(
                    "INSERT INTO organizations (id, name, weight, created_at) VALUES (:id, :id, 1, CURRENT_TIMESTAMP)"
                ),
                {"id": org},
            )
        for row in rows:
            db.execute(
                text(
                    "INSERT INTO connections (id, org_id, provider, name, status, "
                    "account_identifier, config, created_at, updated_at) VALUES (:id, :org, "
                    ":provider, :name, 'connected', :account, '{}', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                row,
            )
    upgrade(url)
    with engine.connect() as db:
        marked = dict(
            db.execute(text("SELECT id, account_proof FROM connections")).all()  # type: ignore[arg-type]
        )
        values = dict(db.execute(text("SELECT id, proven_account FROM connections")).all())  # type: ignore[arg-type]
    assert marked[rows[0]["id"]] == "legacy" and values[rows[0]["id"]] == "alone"
    assert [marked[r["id"]] for r in rows[1:]] == [None, None, None]
    downgrade(url, "0010")
    engine.dispose()
