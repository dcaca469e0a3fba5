"""Two durability fixes of issue #16.

Ordered webhook deliveries: each delivery carries its event's ``created_at``, and one
index on (endpoint, status, event time, event id) answers "is an older event still pending
for this endpoint?" and "which pending delivery is next?" with one index probe, instead of
joining every pending delivery to its event (43 % of an ordered endpoint's delivery time
on PostgreSQL with a 500-event backlog).

Existing rows take their event's time.

Refresh intents (``credential_refresh_intents``): per connection, the last refresh-token
request, marked pending and committed before the token is presented to the provider and
unmarked once the outcome is stored, so a refresher killed mid-rotation is detected and its
(possibly rotated) refresh token is not replayed; ``rotates`` remembers whether the
provider's last answer rotated the token.

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

    op.create_table(
        "credential_refresh_intents",
        sa.Column("connection_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("rotates", sa.Boolean(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_credential_refresh_intents_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_credential_refresh_intents_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_credential_refresh_intents")),
    )
    op.create_index(
        op.f("ix_credential_refresh_intents_org_id"),
        "credential_refresh_intents",
        ["org_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_credential_refresh_intents_org_id"), table_name="credential_refresh_intents"
    )
    op.drop_table("credential_refresh_intents")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("event_created_at")
