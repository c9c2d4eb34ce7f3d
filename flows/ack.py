"""«✅ Ознакомлен»: a student's press under a broadcast, recorded once, answered with a snackbar."""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow
from fsm_bot.services.broadcasts import PREVIEW, AckResult
from fsm_bot.services.inputs import parse_id

flow = Flow(name="ack", description="ack.description", open_to_newcomers=True, in_menu=False)

ANSWERS = {
    AckResult.RECORDED: "ack.recorded",
    AckResult.ALREADY: "ack.already",
    AckResult.NOT_RECIPIENT: "ack.not_recipient",
    AckResult.DELETED: "ack.deleted",
}


@flow.on_start
def acknowledge(ctx: Ctx) -> None:
    value = ctx.value
    if value == PREVIEW:
        ctx.snackbar(ctx.t("ack.preview"))
    elif (recipient := parse_id(value)) is None:
        ctx.snackbar(ctx.t("ack.deleted"))
    else:
        ctx.snackbar(ctx.t(ANSWERS[ctx.services.broadcasts.acknowledge(recipient)]))
