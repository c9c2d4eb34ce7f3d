"""The buttons under a broadcast report: «Кто не прочитал» and «Повторить недоставленным»; under a poll's,
«Напомнить», the result as .xlsx and «Закрыть опрос».

Each carries the broadcast's (or the poll's) id; only its sender or a stream admin may use them, checked
at every press (here, or by the poll service), since a payload can name any id.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Role
from fsm_bot.services.inputs import parse_id
from fsm_bot.services.poll_files import results_xlsx
from fsm_bot.services.polls import render_results

unread = Flow(name="unread", description="unread.description", role=Role.DEPUTY, in_menu=False)
resend = Flow(name="resend", description="resend.description", role=Role.DEPUTY, in_menu=False)
remind = Flow(name="poll_remind", description="poll_remind.description", role=Role.DEPUTY, in_menu=False)
export = Flow(name="poll_export", description="poll_export.description", role=Role.DEPUTY, in_menu=False)
close = Flow(name="poll_close", description="poll_close.description", role=Role.DEPUTY, in_menu=False)


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


def _poll_id(ctx: Ctx) -> int:
    return parse_id(ctx.value) or 0  # no poll has id 0: refused below as anyone else's


@remind.on_start
def remind_unanswered(ctx: Ctx) -> None:
    poll_id = _poll_id(ctx)
    count = ctx.services.polls.remind(poll_id, ctx.t_for)
    if count is None:
        ctx.reply(ctx.t("unread.not_yours"))
    elif count:
        ctx.reply(ctx.t("poll_remind.sent", id=poll_id, count=count))
    else:
        ctx.reply(ctx.t("poll_remind.nobody", id=poll_id))


@export.on_start
def send_file(ctx: Ctx) -> None:
    results = ctx.services.polls.results(_poll_id(ctx))
    if results is None:
        ctx.reply(ctx.t("unread.not_yours"))
        return
    name = ctx.t("poll_export.file_name", id=results.poll_id)
    ctx.send_document(name, results_xlsx(ctx.t, results), ctx.t("poll_export.file", id=results.poll_id))


@close.on_start
def close_now(ctx: Ctx) -> None:
    results = ctx.services.polls.close(_poll_id(ctx))
    if results is None:
        ctx.reply(ctx.t("unread.not_yours"))
        return
    title = ctx.t("poll.result_title", id=results.poll_id, question=results.question)
    ctx.reply("\n".join([title, *render_results(ctx.t, results)]))
