"""Proven account ownership for inbound routing (issue #17): connections record the routing
identifier's value only when the provider returned it, and one connection holds a proven
provider account unless the operator allows sharing.

Existing rows: a connection whose routing identifier (the catalog entry's first) is held by
no other connection of the same provider is kept routable, marked ``account_proof =
'legacy'`` (it was typed before proofs existed; reconnecting replaces the mark with a real
proof). Where two or more connections claim the same value, none is marked: which one owns
the account cannot be told from the data, so each stops receiving account-routed webhooks
until it reconnects (the provider then proves it) or the operator allows sharing. The
routing identifier per provider is frozen below as the catalog stood at this revision.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_connections_provider_proven_account"
WHERE = "proven_account IS NOT NULL AND NOT account_shared"


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("proven_account", sa.String(255), nullable=True))
        batch.add_column(sa.Column("account_proof", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("account_shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _mark_legacy_owners()
    op.create_index(
        INDEX,
        "connections",
        ["provider", "proven_account"],
        unique=True,
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="connections")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("account_shared")
        batch.drop_column("account_proof")
        batch.drop_column("proven_account")


#: The routing identifier (catalog entry's first) of each provider that receives inbound
#: webhooks, as the catalog stood at this revision (a migration must not read live code).
ROUTING_IDENTIFIER = {
    "airtable": "base_id",
    "calendly": "organization",
    "clover": "merchant_id",
    "custom_webhook": "host",
    "discord": "guild_id",
    "ecwid": "store_id",
    "facebook": "page_id",
    "facebook_messenger": "page_id",
    "gohighlevel": "location_id",
    "google_forms": "form_id",
    "hubspot": "portal_id",
    "instagram": "ig_user_id",
    "klaviyo": "company_id",
    "microsoft_365": "tenant",
    "microsoft_outlook": "tenant",
    "quickbooks": "realm_id",
    "shopify": "shop",
    "slack": "team_id",
    "square": "merchant_id",
    "square_payments": "merchant_id",
    "stripe": "account_id",
    "toast": "restaurant_guid",
    "twilio": "account_sid",
    "whatsapp_twilio": "business_number",
    "woocommerce": "store_host",
}


def _mark_legacy_owners() -> None:
    """Mark the sole claimant of each (provider, routing value) as a legacy owner."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, provider, account_identifier FROM connections"))
    claims: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row_id, provider, account in rows:
        value = _routing_value(provider, account)
        if value is not None:
            claims[(provider, value)].append(row_id)
    mark = sa.text(
        "UPDATE connections SET proven_account = :value, account_proof = 'legacy' WHERE id = :id"
    )
    for (_, value), ids in claims.items():
        if len(ids) == 1:
            bind.execute(mark, {"value": value, "id": ids[0]})


def _routing_value(provider: str, account: Any) -> str | None:
    if isinstance(account, str):
        account = json.loads(account)
    key = ROUTING_IDENTIFIER.get(provider)
    if key is None or not isinstance(account, dict):
        return None
    value = account.get(key)
    return str(value)[:255] if value not in (None, "") else None
