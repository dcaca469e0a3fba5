"""Records bulk writes (#7): one (connection, org) foreign key instead of two; fillfactor 50.

Every inserted record fired two foreign-key checks (connection, org), a good part of the
cost of writing a page of new records. One composite key to ``connections (id, org_id)``
checks both at once and also pins the record's org to its connection's. On PostgreSQL half
of each heap page is kept free, so stamping an unchanged record as seen is a HOT update (no
index entry); it applies to pages written from now on (a table rewrite applies it to all).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONNECTION_FK = "fk_records_connection_id_connections"
_ORG_FK = "fk_records_org_id_organizations"


def upgrade() -> None:
    op.create_index("ix_connections_id_org_id", "connections", ["id", "org_id"], unique=True)
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint(_ORG_FK, type_="foreignkey")
        batch.drop_constraint(_CONNECTION_FK, type_="foreignkey")
        batch.create_foreign_key(
            _CONNECTION_FK,
            "connections",
            ["connection_id", "org_id"],
            ["id", "org_id"],
            ondelete="CASCADE",
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE records RESET (fillfactor)")
    with op.batch_alter_table("records") as batch:
        batch.drop_constraint(_CONNECTION_FK, type_="foreignkey")
        batch.create_foreign_key(
            _CONNECTION_FK, "connections", ["connection_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(_ORG_FK, "organizations", ["org_id"], ["id"], ondelete="CASCADE")
    op.drop_index("ix_connections_id_org_id", table_name="connections")
