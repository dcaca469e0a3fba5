"""Ordered webhook deliveries: each delivery carries its event's ``created_at``, and one
index on (endpoint, status, event time, event id) answers "is an older event still pending
for this endpoint?" and "which pending delivery is next?" with one index probe, instead of
joining every pending delivery to its event (43 % of an ordered endpoint's delivery time
on PostgreSQL with a 500-event backlog).

Existing rows take their event's time.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_webhook_deliveries_endpoint_order"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("event_created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE webhook_deliveries SET event_created_at = "
        "(SELECT events.created_at FROM events WHERE events.id = webhook_deliveries.event_id)"
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column(
            "event_created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.create_index(
            INDEX, ["endpoint_id", "status", "event_created_at", "event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("event_created_at")
