"""A new message is stored in the inbox once, whichever way it came: the long poll, a callback push, or
a catch-up read from VK's history after the long poll lost events (fsm_bot.vk.catch_up). The event id
cannot say so (a catch-up has no VK event id to repeat), the message's own id can.

The rows already stored get their key too, so a catch-up soon after the upgrade does not take a message
handled before it for a new one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHAT_PEER_OFFSET = 2_000_000_000


def _key(payload: Any) -> str | None:
    """fsm_bot.vk.events.message_key, on the stored envelope (a migration does not import the bot's code)."""
    message = payload.get("object", {}).get("message") if isinstance(payload, dict) else None
    if not isinstance(message, dict):
        return None
    try:
        peer = int(message.get("peer_id") or message.get("from_id") or 0)
        message_id = int(message.get("id", 0))
        cmid = int(message.get("conversation_message_id", 0))
    except (TypeError, ValueError):
        return None
    if peer < CHAT_PEER_OFFSET and message_id > 0:
        return f"message:{message_id}"
    return f"message:{peer}:{cmid}" if cmid > 0 else None


def upgrade() -> None:
    with op.batch_alter_table("processed_event") as table:
        table.add_column(sa.Column("message_key", sa.String(64), nullable=True))
    events = sa.table(
        "processed_event",
        sa.column("id", sa.BigInteger),
        sa.column("community_id", sa.BigInteger),
        sa.column("type", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("message_key", sa.String),
    )
    connection = op.get_bind()
    taken: set[tuple[int, str]] = set()
    rows = connection.execute(
        sa.select(events.c.id, events.c.community_id, events.c.payload)
        .where(events.c.type == "message_new")
        .order_by(events.c.id)
    ).all()
    for row in rows:
        key = _key(row.payload)
        if key is None or (row.community_id, key) in taken:
            continue  # a repeat stored under two event ids keeps its first row's key only
        taken.add((row.community_id, key))
        connection.execute(sa.update(events).where(events.c.id == row.id).values(message_key=key))
    op.create_index("uq_processed_event_message", "processed_event", ["community_id", "message_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_processed_event_message", table_name="processed_event")
    with op.batch_alter_table("processed_event") as table:
        table.drop_column("message_key")
