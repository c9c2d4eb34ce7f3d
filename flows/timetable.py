"""«расписание»: today, tomorrow, this week, next week, and the calendar file.

One message per view with buttons for the others; a leader also gets «Изменить» (timetable_change)
and everyone «Напоминания» (reminders). The same words work as scheduled commands, e.g.
«расписание сегодня» to a group's chat at 07:30 (settings.yaml `schedule`).
"""

from __future__ import annotations

from datetime import date, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, in_study_group
from fsm_bot.services.timetable import day_text

flow = Flow(
    name="timetable",
    description="timetable.description",
    triggers=[
        "расписание",
        "пары",
        ".tt",
        "расписание сегодня",
        "расписание завтра",
        "расписание на неделю",
        "расписание на следующую неделю",
        "расписание в календарь",
    ],
    needs=[in_study_group("timetable.no_group")],
)

VIEWS_BY_WORDS = {
    "расписание завтра": "tomorrow",
    "расписание на неделю": "week",
    "расписание на следующую неделю": "next",
    "расписание в календарь": "ics",
}
VIEWS = ("today", "tomorrow", "week", "next", "ics")


def _view(ctx: Ctx) -> str:
    pressed = ctx.value
    if pressed in VIEWS:
        return pressed
    return VIEWS_BY_WORDS.get(" ".join(ctx.text.lower().split()), "today")


@flow.on_start
def show(ctx: Ctx) -> None:
    timetable = ctx.services.timetable
    if not timetable.has_timetable():
        ctx.reply(ctx.t("timetable.not_loaded", group=timetable.group))
        return
    view = _view(ctx)
    if view == "ics":
        days = ctx.services.ics_days
        ctx.send_document(f"{timetable.group}.ics", timetable.ics(days), ctx.t("timetable.ics_sent", days=days))
        return
    today = timetable.today()
    if view in ("today", "tomorrow"):
        day = today if view == "today" else today + timedelta(days=1)
        text = day_text(ctx.t, timetable.semester(), day, timetable.lessons(day), timetable.marks_subgroups)
    else:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if view == "next" else 0)
        text = _week(ctx, monday)
    ctx.reply(text, _buttons(ctx, view))


def _week(ctx: Ctx, monday: date) -> str:
    timetable = ctx.services.timetable
    sunday = monday + timedelta(days=6)
    header = ctx.t(
        "timetable.week_title",
        first=monday.strftime("%d.%m"),
        last=sunday.strftime("%d.%m"),
        parity=ctx.t(f"timetable.parity.{timetable.parity(monday).value}"),
    )
    days = timetable.days(monday, sunday)
    if not days:
        return header + "\n" + ctx.t("timetable.no_lessons")
    semester = timetable.semester()
    blocks = [day_text(ctx.t, semester, day, lessons, timetable.marks_subgroups) for day, lessons in days]
    return header + "\n\n" + "\n\n".join(blocks)


def _buttons(ctx: Ctx, shown: str) -> list[list]:
    labels = {
        "today": ctx.t("timetable.today"),
        "tomorrow": ctx.t("timetable.tomorrow"),
        "week": ctx.t("timetable.this_week"),
        "next": ctx.t("timetable.next_week"),
    }
    views = [
        ctx.command_button(label, "timetable", view, "secondary") for view, label in labels.items() if view != shown
    ]
    rows = [views[:2], views[2:]]
    extra = [ctx.command_button(ctx.t("timetable.calendar"), "timetable", "ics", "secondary")]
    if ctx.services.timetable.whole_group and "timetable_change" in ctx.services.flow_names:
        extra.append(ctx.command_button(ctx.t("timetable.change"), "timetable_change", None, "primary"))
    if "reminders" in ctx.services.flow_names:
        extra.append(ctx.command_button(ctx.t("timetable.reminders"), "reminders", None, "primary"))
    rows.append(extra[:3])
    return [row for row in rows if row]
