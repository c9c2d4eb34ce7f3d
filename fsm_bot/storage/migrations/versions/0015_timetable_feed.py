"""What the bot last saw of each group's timetable feed (settings `timetable.feeds`, issue 17 point 4):
ETag / Last-Modified for a conditional GET, the hash of the content applied, the problem reported.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timetable_feed_state",
        sa.Column("community_id", sa.BigInteger(), nullable=False),
        sa.Column("group_name", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id", "group_name"),
    )


def downgrade() -> None:
    op.drop_table("timetable_feed_state")
