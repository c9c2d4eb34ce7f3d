"""Homework and deadlines: an assignment of a study group (subject, text, files, due time) and who was told of it
(and who marked it done). Reminders before the due time reuse `subscription` (kinds homework_*) and
`fired_reminder`, whose unique (subscription, occurrence) keeps each one to a single message.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import JsonDocument, UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "homework",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("study_group_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", JsonDocument, nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["study_group_id"], ["study_group.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_homework_group_due", "homework", ["study_group_id", "due_at"])
    op.create_table(
        "homework_recipient",
        sa.Column("homework_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("told_at", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["homework_id"], ["homework.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("homework_id", "member_id"),
    )
    op.create_index("ix_homework_recipient_member", "homework_recipient", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_homework_recipient_member", table_name="homework_recipient")
    op.drop_table("homework_recipient")
    op.drop_index("ix_homework_group_due", table_name="homework")
    op.drop_table("homework")
