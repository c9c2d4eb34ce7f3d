"""A member's language: `locale` is the one they chose in the menu (kept whatever their app says), `app_locale`
the one their VK app last reported (client_info.lang_id), so scheduled messages (reminders, reports) reach them
in it too. Neither set: the settings' `locale`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as table:
        table.add_column(sa.Column("locale", sa.String(8), nullable=True))
        table.add_column(sa.Column("app_locale", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member") as table:
        table.drop_column("app_locale")
        table.drop_column("locale")
