"""Member status for onboarding: new, pending (awaiting the headman), active.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="new"))


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("status")
