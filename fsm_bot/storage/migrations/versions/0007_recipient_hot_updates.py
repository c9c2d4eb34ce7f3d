"""Recipient rows: index without `status`, and room on PostgreSQL pages for HOT updates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

A broadcast writes every recipient row twice (claimed, then settled). With `status` in an index,
PostgreSQL must write a new index entry for each of those updates; without it, and with free room
on the page (fillfactor), the update stays on the page (a HOT update) and costs a fraction.
bench/broadcast.py measures the difference.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_broadcast_recipient_queue", table_name="broadcast_recipient")
    op.create_index("ix_broadcast_recipient_order", "broadcast_recipient", ["broadcast_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE broadcast_recipient SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE broadcast_recipient RESET (fillfactor)")
    op.drop_index("ix_broadcast_recipient_order", table_name="broadcast_recipient")
    op.create_index("ix_broadcast_recipient_queue", "broadcast_recipient", ["status", "broadcast_id", "id"])
