"""Queues for lab defence and consultations: «открыть очередь», «очередь», and the presses under their messages.

«открыть очередь» (a leader): subject -> window -> the teacher's helper (optional) -> confirm; the group's students
get «Встать в очередь» / «Выйти из очереди». «Следующий» (a leader or the helper) calls the first one waiting and
tells the one after to get ready; a swap of places happens when the other one agrees. All presses are callback
buttons answered by snackbars, and every one is checked again here: a button's payload can be forged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from flows._context import Ctx
from fsm_bot.engine import Flow, KeyboardButton, Role, Texts, Transition, in_study_group
from fsm_bot.services.dates import day_label
from fsm_bot.services.queues import (
    CallOutcome,
    JoinOutcome,
    Line,
    Place,
    QueueView,
    SwapOutcome,
    SwapResult,
    parse_window,
)

NEEDS_GROUP = in_study_group("timetable.no_group")
PRESS = "queue_press"
NOW_FOR = timedelta(hours=2)  # «Сейчас, на 2 часа»
MAX_SUBJECTS = 8  # four rows of two, and the way out under them
MAX_LISTED = 30  # names in a queue's message before «и ещё N»


@dataclass
class Opening:
    """The queue being opened, saved with the dialog as JSON at every step."""

    subject: str = ""
    opens_at: str = ""  # ISO, aware
    closes_at: str = ""
    helper: int = 0  # the teacher's helper's VK id; 0: none
    helper_name: str = ""


opening = Flow(
    name="queue_open",
    description="queue_open.description",
    role=Role.DEPUTY,
    needs=[NEEDS_GROUP],
    in_menu=False,  # from «Очередь»'s button, or typed
    states=["subject", "window", "helper", "confirm"],
    transitions=[
        Transition("named", "subject", "window"),
        Transition("timed", "window", "helper"),
        Transition("helped", "helper", "confirm"),
        Transition("edit", "confirm", "subject"),
    ],
    data=Opening,
)
view = Flow(name="queue", description="queue.description", needs=[NEEDS_GROUP])
presses = Flow(name=PRESS, description="queue_press.description", needs=[NEEDS_GROUP], in_menu=False)


# --- «открыть очередь»


@opening.asks("subject")
def ask_subject(ctx: Ctx[Opening]) -> None:
    """Today's and tomorrow's subjects first, then the rest of the week's; a button carries the subject's index
    in the week's list, which does not change at midnight as the order shown does."""
    subjects = ctx.services.timetable.subjects()
    today = ctx.services.timetable.today()
    soon = [
        lesson.subject for day in (today, today + timedelta(days=1)) for lesson in ctx.services.timetable.lessons(day)
    ]
    shown = sorted(subjects, key=lambda subject: soon.index(subject) if subject in soon else len(soon))[:MAX_SUBJECTS]
    options = [ctx.option(subject, ("s", subjects.index(subject))) for subject in shown]
    ctx.ask(ctx.t("queue_open.ask_subject"), [options[index : index + 2] for index in range(0, len(options), 2)])


@opening.receives("subject")
def got_subject(ctx: Ctx[Opening]) -> None:
    subjects = ctx.services.timetable.subjects()
    match ctx.choice:
        case ("s", int(index)) if index < len(subjects):
            ctx.data.subject = subjects[index]
        case None if ctx.text and len(ctx.text) <= 100:
            ctx.data.subject = ctx.text
        case _:
            ctx.ask_again(ctx.t("queue_open.bad_subject"))
            return
    ctx.go("named")


@opening.asks("window")
def ask_window(ctx: Ctx[Opening]) -> None:
    today = ctx.services.timetable.today()
    lessons = [
        lesson
        for day in (today, today + timedelta(days=1))
        for lesson in ctx.services.timetable.lessons(day)
        if lesson.subject == ctx.data.subject and lesson.takes_place
    ]
    rows = [
        [
            ctx.option(
                ctx.t(
                    "queue_open.lesson_window",
                    day=day_label(ctx.t, lesson.date, today),
                    start=lesson.start,
                    end=lesson.end,
                ),
                ("w", lesson.date.isoformat(), f"{lesson.start:%H%M}", f"{lesson.end:%H%M}"),
            )
        ]
        for lesson in lessons[:4]
    ]
    rows.append([ctx.option(ctx.t("queue_open.now"), "now", "primary")])
    ctx.ask(ctx.t("queue_open.ask_window"), rows)


@opening.receives("window")
def got_window(ctx: Ctx[Opening]) -> None:
    queues, zone = ctx.services.queues, ctx.services.timezone
    window: tuple[datetime, datetime] | None
    match ctx.choice:
        case ("now",):
            start = queues.local(queues.now()).replace(second=0, microsecond=0)
            window = start, start + NOW_FOR
        case ("w", str(day), str(start), str(end)):
            window = parse_window(f"{day} {start[:2]}:{start[2:]}-{end[:2]}:{end[2:]}", queues.today(), zone)
        case _:
            window = parse_window(ctx.text, ctx.services.timetable.today(), zone)
    if window is None:
        ctx.ask_again(ctx.t("queue_open.bad_window"))
        return
    if window[1] <= queues.now():
        ctx.ask_again(ctx.t("queue_open.past_window"))
        return
    ctx.data.opens_at, ctx.data.closes_at = window[0].isoformat(), window[1].isoformat()
    ctx.go("timed")


@opening.asks("helper")
def ask_helper(ctx: Ctx[Opening]) -> None:
    ctx.ask(ctx.t("queue_open.ask_helper"), [[ctx.option(ctx.t("queue_open.no_helper"), "none", "primary")]])


@opening.receives("helper")
def got_helper(ctx: Ctx[Opening]) -> None:
    queues = ctx.services.queues
    match ctx.choice:
        case ("none",):
            ctx.data.helper, ctx.data.helper_name = 0, ""
            ctx.go("helped")
            return
        case ("h", int(vk_id)):
            found = [mate for mate in queues.classmates() if mate.vk_id == vk_id]  # only a classmate, whatever
        case None if ctx.text:
            found = queues.classmates(ctx.text)
        case _:
            found = []
    if not found:
        ctx.ask_again(ctx.t("queue_open.no_such_helper"))
    elif len(found) > 1:
        ctx.ask(ctx.t("queue_open.which_helper"), [[ctx.option(mate.name, ("h", mate.vk_id))] for mate in found[:6]])
    else:
        ctx.data.helper, ctx.data.helper_name = found[0].vk_id, found[0].name
        ctx.go("helped")


@opening.asks("confirm")
def ask_confirm(ctx: Ctx[Opening]) -> None:
    data = ctx.data
    helper = data.helper_name or ctx.t("queue_open.nobody")
    when = _when(ctx, ctx.t, datetime.fromisoformat(data.opens_at), datetime.fromisoformat(data.closes_at))
    ctx.ask(
        ctx.t("queue_open.summary", subject=data.subject, when=when, helper=helper),
        [
            [
                ctx.option(ctx.t("queue_open.open"), "open", "positive"),
                ctx.option(ctx.t("queue_open.edit"), "edit"),
            ]
        ],
    )


@opening.receives("confirm")
def got_confirm(ctx: Ctx[Opening]) -> None:
    if ctx.button == "edit":
        ctx.go("edit")
        return
    if ctx.button != "open":
        ctx.ask_again()
        return
    data, queues = ctx.data, ctx.services.queues
    queue = queues.open(
        data.subject,
        datetime.fromisoformat(data.opens_at),
        datetime.fromisoformat(data.closes_at),
        data.helper or None,
    )
    told = 0
    for mate in queues.classmates():
        if not mate.can_receive:
            continue
        theirs = ctx.t_for(mate.locale)
        when = _when(ctx, theirs, queue.opens_at, queue.closes_at)
        text = theirs("queue.announce", name=ctx.member.full_name, subject=queue.subject, when=when, sex=ctx.member.sex)
        ctx.send_to(mate.vk_id, text, _student_buttons(ctx, theirs, queue.id))
        if mate.vk_id == queue.helper_vk_id:
            ctx.send_to(
                mate.vk_id, theirs("queue.you_help", subject=queue.subject), _caller_buttons(ctx, theirs, queue)
            )
        told += 1
    line = queues.line(queue.id)
    assert line is not None
    ctx.reply(_line_text(ctx, ctx.t, line), _caller_buttons(ctx, ctx.t, queue))
    ctx.finish(ctx.t("queue_open.told", count=told))


# --- «очередь»


@view.on_start
def show(ctx: Ctx) -> None:
    queues = ctx.services.queues
    opened = queues.open_queues()
    if not opened:
        buttons = [[ctx.command_button(ctx.t("queue.open_one"), "queue_open")]] if queues.leads else None
        ctx.reply(ctx.t("queue.none"), buttons)
        return
    for queue in opened:
        line = queues.line(queue.id)
        assert line is not None
        mine = line.place_of(ctx.member.vk_id)
        text = _line_text(ctx, ctx.t, line)
        if queues.may_call(queue):
            ctx.reply(text, _caller_buttons(ctx, ctx.t, queue))
            if mine is not None:
                ctx.reply(ctx.t("queue.your_place", rank=mine.rank), _place_buttons(ctx, line, mine))
        elif mine is None:
            ctx.reply(text + "\n\n" + ctx.t("queue.not_in"), _student_buttons(ctx, ctx.t, queue.id))
        else:
            ctx.reply(text + "\n\n" + ctx.t("queue.your_place", rank=mine.rank), _place_buttons(ctx, line, mine))


def _place_buttons(ctx: Ctx, line: Line, mine: Place) -> list[list[KeyboardButton]]:
    """«Выйти из очереди», and a swap offered to the one just before and the one just after."""
    queue_id = line.queue.id
    rows = [[_press(ctx, ctx.t("queue.leave"), ("l", queue_id), "negative")]]
    for other in (p for p in line.waiting if abs(p.rank - mine.rank) == 1):
        rows.append([_press(ctx, ctx.t("queue.swap_with", name=other.short_name), ("s", queue_id, other.entry_id))])
    return rows


# --- the presses


@presses.on_start
def pressed(ctx: Ctx) -> None:
    match ctx.choice:
        case ("j", int(queue_id)):
            _join(ctx, queue_id)
        case ("l", int(queue_id)):
            outcome = ctx.services.queues.leave(queue_id)
            _say(ctx, ctx.t(f"queue_press.leave.{outcome.value}"))
        case ("n", int(queue_id), int(seen)):
            _call_next(ctx, queue_id, seen)
        case ("c", int(queue_id)):
            _close(ctx, queue_id)
        case ("s", int(queue_id), int(entry_id)):
            _offer(ctx, ctx.services.queues.offer_swap(queue_id, entry_id))
        case ("y" | "d" as answer, int(swap_id)):
            _answer(ctx, ctx.services.queues.answer_swap(swap_id, accept=answer == "y"))
        case _:
            _say(ctx, ctx.t("queue_press.join.missing"))


def _join(ctx: Ctx, queue_id: int) -> None:
    joined = ctx.services.queues.join(queue_id)
    queue = joined.queue
    if joined.outcome is JoinOutcome.NOT_YET and queue is not None:
        when = _when(ctx, ctx.t, queue.opens_at, queue.closes_at)
        _say(ctx, ctx.t("queue_press.join.not_yet", when=when))
    elif joined.outcome is JoinOutcome.ENDED and queue is not None:
        _say(ctx, ctx.t("queue_press.join.ended", end=ctx.services.queues.local(queue.closes_at)))
    else:
        _say(ctx, ctx.t(f"queue_press.join.{joined.outcome.value}", rank=joined.rank))


def _call_next(ctx: Ctx, queue_id: int, seen: int) -> None:
    called = ctx.services.queues.call_next(queue_id, seen)
    line = called.line
    if called.outcome is CallOutcome.CALLED and called.called is not None and line is not None:
        subject = line.queue.subject
        people = ctx.services.locales_of([called.called.vk_id, *([called.next_up.vk_id] if called.next_up else [])])
        ctx.send_to(called.called.vk_id, ctx.t_for(people[called.called.vk_id])("queue.your_turn", subject=subject))
        if called.next_up is not None:
            theirs = ctx.t_for(people[called.next_up.vk_id])
            ctx.send_to(called.next_up.vk_id, theirs("queue.get_ready", subject=subject, sex=called.next_up.sex))
        _say(ctx, ctx.t("queue_press.next.called", name=called.called.short_name))
    else:
        _say(ctx, ctx.t(f"queue_press.next.{called.outcome.value}"))
    if line is not None and called.outcome is not CallOutcome.FORBIDDEN:
        ctx.update(_line_text(ctx, ctx.t, line), _caller_buttons(ctx, ctx.t, line.queue))


def _close(ctx: Ctx, queue_id: int) -> None:
    closed = ctx.services.queues.close(queue_id)
    line = closed.line
    if closed.outcome is CallOutcome.CALLED and line is not None:  # closed by this press
        for place in line.waiting:
            theirs = ctx.t_for(ctx.services.locales_of([place.vk_id])[place.vk_id])
            ctx.send_to(place.vk_id, theirs("queue.closed_for_you", subject=line.queue.subject))
        _say(ctx, ctx.t("queue_press.close.done"))
        ctx.update(_line_text(ctx, ctx.t, line))
    else:
        _say(ctx, ctx.t(f"queue_press.next.{closed.outcome.value}"))


def _offer(ctx: Ctx, offer: SwapResult) -> None:
    if offer.outcome is not SwapOutcome.OFFERED or offer.other is None or offer.asker is None or offer.queue is None:
        _say(ctx, ctx.t(f"queue_press.swap.{offer.outcome.value}"))
        return
    theirs = ctx.t_for(ctx.services.locales_of([offer.other.vk_id])[offer.other.vk_id])
    ctx.send_to(
        offer.other.vk_id,
        theirs(
            "queue.swap_offer",
            name=offer.asker.name,
            subject=offer.queue.subject,
            mine=offer.other.rank,
            theirs=offer.asker.rank,
            sex=offer.asker.sex,
        ),
        [
            [
                _press(ctx, theirs("queue.swap_accept"), ("y", offer.swap_id), "positive"),
                _press(ctx, theirs("queue.swap_decline"), ("d", offer.swap_id), "negative"),
            ]
        ],
    )
    ctx.reply(
        ctx.t("queue.swap_sent", name=offer.other.name, rank=offer.other.rank),
        [[_press(ctx, ctx.t("queue.swap_withdraw"), ("d", offer.swap_id))]],
    )
    _say(ctx, ctx.t("queue_press.swap.offered", name=offer.other.short_name))


def _answer(ctx: Ctx, answer: SwapResult) -> None:
    """The pressed offer's message says how it ended; the other side of the swap is told in a message."""
    outcome, asker, other = answer.outcome, answer.asker, answer.other
    _say(ctx, ctx.t(f"queue_press.swap.{outcome.value}"))
    if asker is None or other is None or answer.queue is None or outcome is SwapOutcome.SETTLED:
        return
    subject = answer.queue.subject
    me, them = (asker, other) if outcome is SwapOutcome.WITHDRAWN else (other, asker)
    theirs = ctx.t_for(ctx.services.locales_of([them.vk_id])[them.vk_id])
    ctx.update(ctx.t(f"queue.swap_done.{outcome.value}", name=them.name, rank=me.rank, subject=subject))
    ctx.send_to(
        them.vk_id,
        theirs(f"queue.swap_told.{outcome.value}", name=me.name, rank=them.rank, sex=me.sex, subject=subject),
    )


# --- what the messages say


def _say(ctx: Ctx, text: str) -> None:
    """A press's answer: its snackbar; a message for the same payload typed or sent by a client without
    callback buttons (a forged one among them), which has no snackbar to show."""
    if ctx.event.type == "message_event":
        ctx.snackbar(text)
    else:
        ctx.reply(text)


def _press(
    ctx: Ctx,
    label: str,
    value: tuple[str | int, ...],
    color: Literal["positive", "negative", "secondary"] = "secondary",
) -> KeyboardButton:
    return ctx.command_button(label, PRESS, value, color, callback=True)


def _student_buttons(ctx: Ctx, t: Texts, queue_id: int) -> list[list[KeyboardButton]]:
    return [
        [_press(ctx, t("queue.join"), ("j", queue_id), "positive")],
        [_press(ctx, t("queue.leave"), ("l", queue_id), "negative")],
    ]


def _caller_buttons(ctx: Ctx, t: Texts, queue: QueueView) -> list[list[KeyboardButton]]:
    if not queue.open:
        return []
    return [
        [_press(ctx, t("queue.next"), ("n", queue.id, queue.calls), "positive")],
        [_press(ctx, t("queue.close"), ("c", queue.id), "negative")],
    ]


def _when(ctx: Ctx, t: Texts, opens_at: datetime, closes_at: datetime) -> str:
    start, end = ctx.services.queues.local(opens_at), ctx.services.queues.local(closes_at)
    day = day_label(t, start.date(), ctx.services.timetable.today())
    return t("queue.when", day=day, start=start.time(), end=end.time())


def _line_text(ctx: Ctx, t: Texts, line: Line) -> str:
    queue = line.queue
    lines = [t("queue.title", subject=queue.subject, when=_when(ctx, t, queue.opens_at, queue.closes_at))]
    if not queue.open:
        lines.append(t("queue.is_closed"))
    lines.append(t("queue.waiting", count=len(line.waiting)))
    lines += [t("queue.line", rank=place.rank, name=place.name) for place in line.waiting[:MAX_LISTED]]
    if len(line.waiting) > MAX_LISTED:
        lines.append(t("queue.more", count=len(line.waiting) - MAX_LISTED))
    if line.called:
        lines.append(t("queue.called", name=line.called[-1].name, count=len(line.called)))
    return "\n".join(lines)
