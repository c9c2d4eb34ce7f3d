"""An event that failed is set aside with what went wrong, so a person reading the inbox sees why
it was not handled like the others (and the dispatcher never takes it again).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_event") as table:
        table.add_column(sa.Column("error", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processed_event") as table:
        table.drop_column("error")
