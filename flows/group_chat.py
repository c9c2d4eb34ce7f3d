"""The bot added to a group chat (беседа): the one who added it says which study group the chat is.

VK tells the bot only that it was invited (a chat_invite_user service message naming the community),
not whose chat it is; once bound, a broadcast to the group can also be posted and pinned there, and
«⚙ Настройка» shows the chat. Asked in the chat itself, with command buttons: anyone there sees them,
so each press is checked again (a leader binds only their own group's chat, a stream admin any).
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Role

GROUP_BUTTONS = 8  # two to a row, with «Не привязывать» under them: within VK's 10 buttons in 6 rows

flow = Flow(
    name="group_chat",
    description="group_chat.description",
    role=Role.DEPUTY,
    in_menu=False,
    starts_when_invited=True,
)


@flow.on_start
def bind(ctx: Ctx) -> None:
    if not ctx.event.in_chat:  # a forged button in a private dialog: there is no chat to bind
        ctx.reply(ctx.t("group_chat.only_in_chat"))
        return
    match ctx.choice:
        case ("g", str(group)):
            if ctx.services.bind_chat(group, ctx.event.peer_id):
                ctx.reply(ctx.t("group_chat.bound", group=group))
            else:
                ctx.reply(ctx.t("group_chat.unknown_group"))
        case ("no",):
            ctx.reply(ctx.t("group_chat.not_bound"))
        case _:
            _ask(ctx)


def _ask(ctx: Ctx) -> None:
    groups = ctx.services.chat_groups()
    if not groups:
        ctx.reply(ctx.t("group_chat.no_groups"))
        return
    if len(groups) > GROUP_BUTTONS:
        # A stream admin of a large stream: their own group first, then the rest by name, as many as fit.
        groups = sorted(groups, key=lambda name: name != ctx.member.study_group)[:GROUP_BUTTONS]
    options = [ctx.command_button(name, flow.name, ("g", name)) for name in groups]
    rows = [options[index : index + 2] for index in range(0, len(options), 2)]
    rows.append([ctx.command_button(ctx.t("group_chat.skip"), flow.name, ("no",), "secondary")])
    bound = ctx.services.chat_group(ctx.event.peer_id)
    text = ctx.t("group_chat.ask")
    if bound is not None:
        text += "\n" + ctx.t("group_chat.bound_now", group=bound)
    ctx.reply(text, rows)
