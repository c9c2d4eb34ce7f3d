"""Queues (lab defence, consultations): a queue per subject and time window, its places, and swap offers.

Places are unique per queue (a constraint, so two students joining at once cannot share one); the queue row's
`last_place` is the counter every join bumps with one UPDATE, which serializes joiners on both databases.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("study_group_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("opens_at", UtcDateTime(), nullable=False),
        sa.Column("closes_at", UtcDateTime(), nullable=False),
        sa.Column("helper_vk_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_place", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_group_id"], ["study_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_queue_group_status", "queue", ["study_group_id", "status"])
    op.create_table(
        "queue_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
        sa.Column("called_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["queue_id"], ["queue.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("queue_id", "place", name="uq_queue_entry_place"),
        sa.UniqueConstraint("queue_id", "member_id", name="uq_queue_entry_member"),
    )
    op.create_table(
        "queue_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("asker_entry_id", sa.Integer(), nullable=False),
        sa.Column("other_entry_id", sa.Integer(), nullable=False),
        sa.Column("asker_place", sa.Integer(), nullable=False),
        sa.Column("other_place", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["queue_id"], ["queue.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asker_entry_id"], ["queue_entry.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["other_entry_id"], ["queue_entry.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_queue_swap_queue", "queue_swap", ["queue_id"])


def downgrade() -> None:
    op.drop_index("ix_queue_swap_queue", table_name="queue_swap")
    op.drop_table("queue_swap")
    op.drop_table("queue_entry")
    op.drop_index("ix_queue_group_status", table_name="queue")
    op.drop_table("queue")
