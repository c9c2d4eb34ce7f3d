"""«помощь»: the commands this member may use, with what each does. Privileged ones stay hidden."""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow

flow = Flow(
    name="help",
    description="help.description",
    triggers=["помощь", ".h", ".help", "help", "команды"],
    open_to_newcomers=True,
)


@flow.on_start
def show_commands(ctx: Ctx) -> None:
    lines = [ctx.t("help.header")]
    for command in ctx.commands():
        words = ", ".join(f"«{word}»" for word in command.words[:3])
        lines.append(ctx.t("help.line", words=words, description=command.description))
    if not ctx.member.onboarded:
        lines.append(ctx.t("help.newcomer"))
    ctx.finish("\n".join(lines))
