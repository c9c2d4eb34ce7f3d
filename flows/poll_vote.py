"""A student's press of a poll's answer button: recorded (or changed), answered with a snackbar.

The button carries the poll and the option's number; whose answer it is comes from who pressed, and the
service checks that they were sent the poll, that the option exists and that the poll is still open.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow
from fsm_bot.services.polls import PREVIEW, VoteOutcome

flow = Flow(name="poll_vote", description="poll_vote.description", open_to_newcomers=True, in_menu=False)

REFUSALS = {
    VoteOutcome.CLOSED: "poll_vote.closed",
    VoteOutcome.NOT_RECIPIENT: "poll_vote.not_recipient",
    VoteOutcome.NO_OPTION: "poll_vote.no_option",
    VoteOutcome.DELETED: "poll_vote.deleted",
}


def _tell(ctx: Ctx, text: str) -> None:
    """In the snackbar of a press; a typed message carrying the payload (no button of ours sends one) has no
    snackbar, so it is answered with a message."""
    if ctx.event.type == "message_event":
        ctx.snackbar(text)
    else:
        ctx.reply(text)


@flow.on_start
def answer(ctx: Ctx) -> None:
    match ctx.choice:
        case (str(preview), int()) if preview == PREVIEW:
            _tell(ctx, ctx.t("poll_vote.preview"))
        case (int(poll), int(option)):
            vote = ctx.services.polls.vote(poll, option)
            if vote.outcome != VoteOutcome.RECORDED:
                _tell(ctx, ctx.t(REFUSALS[vote.outcome]))
            elif not vote.chosen:
                _tell(ctx, ctx.t("poll_vote.withdrawn"))
            else:
                chosen = ", ".join(f"«{label}»" for label in vote.chosen)
                _tell(ctx, ctx.t("poll_vote.recorded", count=len(vote.chosen), chosen=chosen))
        case _:
            _tell(ctx, ctx.t("poll_vote.deleted"))
