"""Broadcasts posted and pinned in the group's chat: the chat copy's outbox row and the pin's state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast") as batch:
        batch.add_column(sa.Column("chat_outbox_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("pin_state", sa.String(length=16), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("broadcast") as batch:
        batch.drop_column("pin_state")
        batch.drop_column("chat_outbox_id")
