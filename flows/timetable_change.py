"""«изменить расписание»: a leader cancels or moves one lesson; the group's subscribers hear at once.

day -> lesson -> what to change (cancel / time / room / another day) -> the new value -> confirm.
The role is checked by the engine at every step, and the service checks again that the lesson
belongs to the leader's own group (a forged payload can name any slot id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Transition, Unsaved
from fsm_bot.engine.widgets import DayPicker, way_out
from fsm_bot.services.dates import day_label, parse_day
from fsm_bot.services.timetable import Change, ChangeKind, Lesson, LessonStatus, lesson_line

DAYS_OFFERED = 8
DAYS = DayPicker(per_row=3, most=8)  # and «Назад» «Отмена»: VK shows at most 10 buttons under a message
ACTIONS = ("cancel", "time", "room", "day")


@dataclass
class LessonChange:
    """The change being prepared, saved with the dialog as JSON at every step."""

    day: str = ""  # ISO date of the lesson
    slot_id: int = 0  # the weekly timetable's slot
    start: str = ""  # "09:00", the lesson as it is
    end: str = ""
    room: str | None = None
    subgroup: int | None = None
    line: str = ""  # the lesson as the messages show it
    action: str = ""  # one of ACTIONS
    new_date: str | None = None  # the new values; cleared when another action is chosen
    new_start: str | None = None
    new_end: str | None = None
    new_room: str | None = None

    @property
    def lesson_day(self) -> date:
        return date.fromisoformat(self.day)

    def forget_new_values(self) -> None:
        self.new_date = self.new_start = self.new_end = self.new_room = None


def has_timetable(ctx: Ctx) -> str | None:
    """The guard: only lessons of the group's loaded weekly timetable can be changed."""
    return None if ctx.services.timetable.has_timetable() else "timetable_change.no_timetable"


flow = Flow(
    name="timetable_change",
    description="timetable_change.description",
    role=Role.DEPUTY,
    needs=[has_timetable],
    in_menu=False,
    states=["day", "lesson", "action", "value", "confirm"],
    transitions=[
        Transition("day_chosen", "day", "lesson"),
        Transition("lesson_chosen", "lesson", "action"),
        Transition("cancel_chosen", "action", "confirm"),
        Transition("action_chosen", "action", "value"),
        Transition("value_given", "value", "confirm"),
    ],
    data=LessonChange,
    unsaved=Unsaved("timetable_change.leave_warning", states=("value", "confirm")),
)


# --- day


@flow.asks("day")
def ask_day(ctx: Ctx[LessonChange]) -> None:
    timetable = ctx.services.timetable
    today = timetable.today()
    days = [day for day, lessons in timetable.days(today, today + timedelta(days=DAYS_OFFERED)) if _changeable(lessons)]
    rows = DAYS.rows(ctx, days, label=lambda day: day_label(ctx.t, day, today))
    ctx.ask(ctx.t("timetable_change.ask_day"), [*rows, way_out(ctx)])


@flow.receives("day")
def got_day(ctx: Ctx[LessonChange]) -> None:
    timetable = ctx.services.timetable
    day = DAYS.read(ctx, lambda text: parse_day(text, timetable.today()))
    if day is None:
        ctx.reply(ctx.t("timetable_change.bad_day"))
        return
    if day < timetable.today():
        ctx.reply(ctx.t("timetable_change.past_day"))
        return
    if not _changeable(timetable.lessons(day)):
        ctx.reply(ctx.t("timetable_change.no_lessons_that_day", date=day.strftime("%d.%m")))
        return
    ctx.data.day = day.isoformat()
    ctx.go("day_chosen")


# --- lesson


@flow.asks("lesson")
def ask_lesson(ctx: Ctx[LessonChange]) -> None:
    day = ctx.data.lesson_day
    lessons = _changeable(ctx.services.timetable.lessons(day))
    options = [
        ctx.option(
            ctx.t("timetable_change.lesson_option", start=lesson.start, subject=lesson.subject), _lesson_value(lesson)
        )
        for lesson in lessons[:8]
    ]
    # Two to a row: VK's inline keyboard has 6 rows for its 10 buttons (7 lessons, one to a row, crashed).
    rows = [options[index : index + 2] for index in range(0, len(options), 2)]
    ctx.ask(ctx.t("timetable_change.ask_lesson", date=day.strftime("%d.%m")), rows)


@flow.receives("lesson")
def got_lesson(ctx: Ctx[LessonChange]) -> None:
    day = ctx.data.lesson_day
    lessons = _changeable(ctx.services.timetable.lessons(day))
    chosen = next((lesson for lesson in lessons if _lesson_value(lesson) == ctx.choice), None)
    if chosen is None:
        ctx.reply(ctx.t("timetable_change.pick_lesson"))
        return
    data = ctx.data
    assert chosen.slot_id is not None  # _changeable lessons only
    data.slot_id, data.room, data.subgroup = chosen.slot_id, chosen.room, chosen.subgroup
    data.start, data.end = chosen.start.strftime("%H:%M"), chosen.end.strftime("%H:%M")
    data.line = lesson_line(ctx.t, chosen)
    ctx.go("lesson_chosen")


# --- action


@flow.asks("action")
def ask_action(ctx: Ctx[LessonChange]) -> None:
    rows = [
        [ctx.option(ctx.t("timetable_change.action_cancel"), "cancel", "negative")],
        [
            ctx.option(ctx.t("timetable_change.action_time"), "time"),
            ctx.option(ctx.t("timetable_change.action_room"), "room"),
        ],
        [ctx.option(ctx.t("timetable_change.action_day"), "day")],
    ]
    ctx.ask(ctx.t("timetable_change.ask_action", lesson=ctx.data.line), rows)


@flow.receives("action")
def got_action(ctx: Ctx[LessonChange]) -> None:
    if ctx.button not in ACTIONS:
        ctx.ask_again()
        return
    ctx.data.action = ctx.button
    ctx.data.forget_new_values()  # a value given before «назад» to this step belongs to the other action
    ctx.go("cancel_chosen" if ctx.button == "cancel" else "action_chosen")


# --- the new value


@flow.asks("value")
def ask_value(ctx: Ctx[LessonChange]) -> None:
    key = {"time": "ask_time", "room": "ask_room", "day": "ask_day_value"}[ctx.data.action]
    ctx.ask(ctx.t(f"timetable_change.{key}"))


@flow.receives("value")
def got_value(ctx: Ctx[LessonChange]) -> None:
    action = ctx.data.action
    today = ctx.services.timetable.today()
    if action == "room":
        room = ctx.text.strip()
        if not room or len(room) > 30:
            ctx.reply(ctx.t("timetable_change.bad_room"))
            return
        ctx.data.new_room = room
    elif action == "time":
        times = _parse_times(ctx.text, ctx.data)
        if times is None:
            ctx.reply(ctx.t("timetable_change.bad_time"))
            return
        ctx.data.new_start, ctx.data.new_end = times
    else:  # another day: "03.12" or "03.12 10:45"
        parts = ctx.text.split(maxsplit=1)
        new_day = parse_day(parts[0], today) if parts else None
        times = _parse_times(parts[1], ctx.data) if len(parts) > 1 else (ctx.data.start, ctx.data.end)
        if new_day is None or times is None:
            ctx.reply(ctx.t("timetable_change.bad_new_day"))
            return
        if new_day < today:
            ctx.reply(ctx.t("timetable_change.past_day"))
            return
        ctx.data.new_date = new_day.isoformat()
        ctx.data.new_start, ctx.data.new_end = times
    ctx.go("value_given")


# --- confirm


@flow.asks("confirm")
def ask_confirm(ctx: Ctx[LessonChange]) -> None:
    ctx.ask(
        ctx.t("timetable_change.confirm", lesson=ctx.data.line, change=_describe(ctx)),
        [
            [
                ctx.option(ctx.t("timetable_change.apply"), "apply", "positive"),
                ctx.option(ctx.t("timetable_change.cancel"), "drop", "negative"),
            ]
        ],
    )


@flow.receives("confirm")
def got_confirm(ctx: Ctx[LessonChange]) -> None:
    if ctx.button == "drop":
        ctx.finish(ctx.t("timetable_change.dropped"))
        return
    if ctx.button != "apply":
        ctx.ask_again()
        return
    ctx.require(Role.DEPUTY)
    timetable = ctx.services.timetable
    change = _change(ctx)
    try:
        timetable.add_change(change)
    except PermissionError:
        ctx.finish(ctx.t("timetable_change.not_yours"))
        return
    day = ctx.data.lesson_day
    changed = [lesson for lesson in timetable.lessons(day) if lesson.slot_id == change.slot_id]
    if change.new_date is not None and change.new_date != day:
        changed += [
            lesson
            for lesson in timetable.lessons(change.new_date)
            if lesson.slot_id == change.slot_id and lesson.status is LessonStatus.MOVED
        ]
    notice = ctx.t(
        "timetable_change.notice",
        group=timetable.group,
        date=day.strftime("%d.%m"),
        lessons="\n".join(lesson_line(ctx.t, lesson) for lesson in changed) or ctx.data.line,
    )
    subscribers = [vk_id for vk_id in timetable.subscribers_for(ctx.data.subgroup) if vk_id != ctx.member.vk_id]
    for vk_id in subscribers:
        ctx.send_to(vk_id, notice)
    ctx.finish(ctx.t("timetable_change.done", told=len(subscribers)))


def _change(ctx: Ctx[LessonChange]) -> Change:
    data = ctx.data
    if data.action == "cancel":
        return Change(ChangeKind.CANCEL, data.lesson_day, slot_id=data.slot_id)
    return Change(
        ChangeKind.MOVE,
        data.lesson_day,
        slot_id=data.slot_id,
        new_date=date.fromisoformat(data.new_date) if data.new_date else None,
        new_start=_clock(data.new_start) if data.new_start else None,
        new_end=_clock(data.new_end) if data.new_end else None,
        new_room=data.new_room,
    )


def _describe(ctx: Ctx[LessonChange]) -> str:
    data = ctx.data
    if data.action == "cancel":
        return ctx.t("timetable_change.will_cancel")
    if data.action == "room":
        return ctx.t("timetable_change.will_room", room=data.new_room)
    if data.action == "time":
        return ctx.t("timetable_change.will_time", start=data.new_start, end=data.new_end)
    new_day = date.fromisoformat(data.new_date or data.day)
    return ctx.t("timetable_change.will_day", date=new_day.strftime("%d.%m"), start=data.new_start)


def _lesson_value(lesson: Lesson) -> tuple[str, int, str]:
    """A lesson's button: its slot and its time (a slot may meet twice a day after a move)."""
    assert lesson.slot_id is not None  # _changeable lessons only
    return ("lesson", lesson.slot_id, f"{lesson.start:%H%M}")


def _changeable(lessons: list[Lesson]) -> list[Lesson]:
    """Lessons of the weekly timetable that still take place: those a leader can cancel or move."""
    return [lesson for lesson in lessons if lesson.slot_id is not None and lesson.takes_place]


def _parse_times(text: str, data: LessonChange) -> tuple[str, str] | None:
    """ "10:45" keeps the lesson's length; "10:45-12:15" sets both ends."""
    found = re.findall(r"\b(\d{1,2})[:.](\d{2})\b", text)
    try:
        clocks = [time(int(hours), int(minutes)) for hours, minutes in found]
    except ValueError:
        return None
    if len(clocks) == 1:
        length = datetime.combine(date.min, _clock(data.end)) - datetime.combine(date.min, _clock(data.start))
        end = datetime.combine(date.min, clocks[0]) + length
        if end.date() != date.min:
            return None
        clocks.append(end.time())
    if len(clocks) != 2 or clocks[1] <= clocks[0]:
        return None
    return clocks[0].strftime("%H:%M"), clocks[1].strftime("%H:%M")


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
