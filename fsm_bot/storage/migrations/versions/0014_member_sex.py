"""A member's sex as VK gives it (users.get / groups.getMembers `sex`: 0 unknown, 1 female, 2 male), so a
sentence about a person can use the right verb form («она подтвердила» / «он подтвердил»).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as table:
        table.add_column(sa.Column("sex", sa.SmallInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("member") as table:
        table.drop_column("sex")
