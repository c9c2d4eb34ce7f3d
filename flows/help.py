"""«помощь»: the commands this member may use, with what each does. Privileged ones stay hidden."""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow

flow = Flow(
    name="help",
    description="help.description",
    open_to_newcomers=True,
)


@flow.on_start
def show_commands(ctx: Ctx) -> None:
    lines = [ctx.t("help.header")]
    for command in ctx.commands():
        words = ", ".join(ctx.t("help.word", word=word) for word in command.words[:3])
        lines.append(ctx.t("help.line", words=words, description=command.description))
    # The words that work in any dialog (fsm_bot/locales, `words`): the first of each list, as the buttons say them.
    cancel, back, menu = (ctx.t.variants(f"words.{word}")[0] for word in ("cancel", "back", "menu"))
    lines.append(ctx.t("help.global_words", cancel=cancel, back=back, menu=menu))
    if ctx.member.status == "pending":  # registered: only the headman's answer is missing
        lines.append(ctx.t("help.pending", group=ctx.member.study_group or ""))
    elif not ctx.member.onboarded:
        lines.append(ctx.t("help.newcomer"))
    ctx.finish("\n".join(lines))
