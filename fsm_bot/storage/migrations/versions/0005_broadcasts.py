"""Broadcasts: the message, its recipients one row each, and the send batches behind random_ids.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import JsonDocument, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("sender_vk_id", sa.BigInteger(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("audience_label", sa.String(length=200), nullable=False),
        sa.Column("parts", JsonDocument, nullable=False),
        sa.Column("ask_ack", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("report_outbox_id", sa.BigInteger(), nullable=True),
        sa.Column("report_dirty", sa.Boolean(), nullable=False),
        sa.Column("nudge_at", UtcDateTime(), nullable=True),
        sa.Column("nudged", sa.Boolean(), nullable=False),
        sa.Column("admins_told", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_broadcast_sender", "broadcast", ["community_id", "sender_vk_id", "id"])
    op.create_table(
        "broadcast_recipient",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("vk_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parts_sent", sa.Integer(), nullable=False),
        sa.Column("random_id", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", UtcDateTime(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "vk_id", name="uq_broadcast_recipient"),
    )
    op.create_index("ix_broadcast_recipient_queue", "broadcast_recipient", ["status", "broadcast_id", "id"])
    op.create_table(
        "send_batch",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("send_batch")
    op.drop_index("ix_broadcast_recipient_queue", table_name="broadcast_recipient")
    op.drop_table("broadcast_recipient")
    op.drop_index("ix_broadcast_sender", table_name="broadcast")
    op.drop_table("broadcast")
