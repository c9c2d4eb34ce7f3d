"""Set-up from VK (issue 17, point 2): the database, not settings.yaml, is the truth after the first start.

- `community.seeded_at`: when `stream.groups` / `stream.auto_approve` of settings.yaml were copied into this
  database (once; a deployment upgraded to this revision is seeded once more at its next start, as every
  start did before, and never again after);
- `community.auto_approve`: newcomers join without the headman's approval (switched from «⚙ Настройка»);
  NULL until seeded;
- `study_group.chat_peer_id`: the group's chat (беседа), bound when the bot is added to it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from fsm_bot.storage.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("community") as table:
        table.add_column(sa.Column("seeded_at", UtcDateTime(), nullable=True))
        table.add_column(sa.Column("auto_approve", sa.Boolean(), nullable=True))
    with op.batch_alter_table("study_group") as table:
        table.add_column(sa.Column("chat_peer_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study_group") as table:
        table.drop_column("chat_peer_id")
    with op.batch_alter_table("community") as table:
        table.drop_column("auto_approve")
        table.drop_column("seeded_at")
