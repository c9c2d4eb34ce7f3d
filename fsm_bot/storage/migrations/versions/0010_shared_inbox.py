"""Several bot processes share one database: leases on claimed events, each user's oldest event and
each person's oldest unsent reply found fast.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_event") as table:
        table.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("claimed_until", UtcDateTime(), nullable=True))
    op.create_index(
        "ix_processed_event_user_pending",
        "processed_event",
        ["community_id", "user_id", "id"],
        postgresql_where=sa.text("handled_at IS NULL"),
        sqlite_where=sa.text("handled_at IS NULL"),
    )
    op.create_index(
        "ix_outgoing_message_peer_open",
        "outgoing_message",
        ["community_id", "peer_id", "id"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade() -> None:
    op.drop_index("ix_outgoing_message_peer_open", table_name="outgoing_message")
    op.drop_index("ix_processed_event_user_pending", table_name="processed_event")
    with op.batch_alter_table("processed_event") as table:
        table.drop_column("claimed_until")
        table.drop_column("claimed_by")
