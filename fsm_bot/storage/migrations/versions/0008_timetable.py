"""Timetable, its one-off changes, reminder subscriptions and fired reminders; documents in the outbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import JsonDocument, UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timetable_calendar",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("semester_start", sa.Date(), nullable=False),
        sa.Column("semester_end", sa.Date(), nullable=False),
        sa.Column("first_week", sa.String(8), nullable=False),
        sa.Column("holidays", JsonDocument, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    op.create_table(
        "timetable_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("study_group_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("teacher", sa.String(200), nullable=False),
        sa.Column("room", sa.String(64), nullable=False),
        sa.Column("weeks", sa.String(8), nullable=False),
        sa.Column("subgroup", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_group_id"], ["study_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timetable_slot_group", "timetable_slot", ["study_group_id", "day", "start"])
    op.create_table(
        "timetable_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("study_group_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("new_date", sa.Date(), nullable=True),
        sa.Column("new_start", sa.Time(), nullable=True),
        sa.Column("new_end", sa.Time(), nullable=True),
        sa.Column("new_room", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("kind_label", sa.String(64), nullable=False),
        sa.Column("teacher", sa.String(200), nullable=False),
        sa.Column("subgroup", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_group_id"], ["study_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["slot_id"], ["timetable_slot.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_timetable_change_group", "timetable_change", ["study_group_id", "date"])
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_time", sa.Time(), nullable=True),
        sa.Column("lead_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "kind", name="uq_subscription_member_kind"),
    )
    op.create_index("ix_subscription_community_kind", "subscription", ["community_id", "kind"])
    op.create_table(
        "fired_reminder",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.String(64), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("fired_at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "occurrence", name="uq_fired_reminder"),
    )
    with op.batch_alter_table("outgoing_message") as batch:
        batch.add_column(sa.Column("upload_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("upload_data", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outgoing_message") as batch:
        batch.drop_column("upload_data")
        batch.drop_column("upload_name")
    op.drop_table("fired_reminder")
    op.drop_index("ix_subscription_community_kind", table_name="subscription")
    op.drop_table("subscription")
    op.drop_index("ix_timetable_change_group", table_name="timetable_change")
    op.drop_table("timetable_change")
    op.drop_index("ix_timetable_slot_group", table_name="timetable_slot")
    op.drop_table("timetable_slot")
    op.drop_table("timetable_calendar")
