"""The buttons under a broadcast report: «Кто не прочитал» and «Повторить недоставленным».

Both carry the broadcast's id; only its sender or a stream admin may use them, checked here at
every press, since a payload can name any id.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Role
from fsm_bot.services.inputs import parse_id

unread = Flow(name="unread", description="unread.description", role=Role.DEPUTY, in_menu=False)
resend = Flow(name="resend", description="resend.description", role=Role.DEPUTY, in_menu=False)


def _broadcast_id(ctx: Ctx) -> int | None:
    value = ctx.value
    broadcast_id = parse_id(value)
    if broadcast_id is not None and ctx.services.broadcasts.own(broadcast_id) is not None:
        return broadcast_id
    return None


@unread.on_start
def list_unread(ctx: Ctx) -> None:
    broadcast_id = _broadcast_id(ctx)
    if broadcast_id is None:
        ctx.reply(ctx.t("unread.not_yours"))
        return
    names = ctx.services.broadcasts.tally(broadcast_id).unacknowledged
    if not names:
        ctx.reply(ctx.t("unread.everyone", id=broadcast_id))
        return
    shown = "\n".join(ctx.t("unread.name_line", name=name) for name in names[:100])
    more = ctx.t("unread.more", count=len(names) - 100) if len(names) > 100 else ""
    ctx.reply(ctx.t("unread.list", id=broadcast_id, count=len(names), names=shown) + more)


@resend.on_start
def resend_unreached(ctx: Ctx) -> None:
    broadcast_id = _broadcast_id(ctx)
    if broadcast_id is None:
        ctx.reply(ctx.t("unread.not_yours"))
        return
    count = ctx.services.broadcasts.resend_unreached(broadcast_id)
    ctx.reply(ctx.t("resend.queued", id=broadcast_id, count=count) if count else ctx.t("resend.nobody"))
