"""«мои рассылки»: recent broadcasts with their tallies (an admin sees everyone's)."""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, KeyboardButton, Role
from fsm_bot.services.broadcasts import preview_of

flow = Flow(
    name="history",
    description="history.description",
    role=Role.DEPUTY,
)


@flow.on_start
def show_history(ctx: Ctx) -> None:
    recent = ctx.services.broadcasts.recent()
    if not recent:
        ctx.finish(ctx.t("history.empty"))
        return
    lines = [ctx.t("history.header")]
    buttons: list[list[KeyboardButton]] = []
    for broadcast, tally in recent:
        when = broadcast.created_at.astimezone(ctx.services.timezone).strftime("%d.%m %H:%M")
        line = ctx.t(
            "history.line",
            id=broadcast.id,
            when=when,
            audience=broadcast.audience_label,
            preview=preview_of(ctx.t, broadcast.parts, 40),
            delivered=tally.delivered,
            planned=tally.planned,
        )
        if broadcast.ask_ack:
            line += ctx.t("history.acks", acked=tally.acknowledged)
        lines.append(line)
        if len(buttons) < 5 and tally.finished and (tally.cannot_receive or tally.failed):
            buttons.append([ctx.command_button(ctx.t("history.resend", id=broadcast.id), "resend", str(broadcast.id))])
        elif len(buttons) < 5 and broadcast.ask_ack and tally.unacknowledged:
            buttons.append(
                [ctx.command_button(ctx.t("history.unread", id=broadcast.id), "unread", str(broadcast.id), "secondary")]
            )
    ctx.reply("\n".join(lines), buttons or None)
