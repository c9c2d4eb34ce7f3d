"""«расписание»: today, tomorrow, this week, next week, and the calendar file.

One message per view with buttons for the others; a press on one changes that same message (callback
buttons), so paging through the days leaves one timetable in the conversation, not a trail of them. A
leader also gets «Изменить» (timetable_change) and everyone «Напоминания» (reminders). The same words
work as scheduled commands, e.g. «расписание сегодня» to a group's chat at 07:30 (settings.yaml `schedule`).
"""

from __future__ import annotations

from datetime import date, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, in_study_group
from fsm_bot.services.timetable import day_text

flow = Flow(
    name="timetable",
    description="timetable.description",
    needs=[in_study_group("timetable.no_group")],
)

VIEWS = ("today", "tomorrow", "week", "next", "ics")


def _view(ctx: Ctx) -> str:
    """The pressed view, or the one the typed words name (`timetable.view_words.<view>`, in the person's
    language or the bot's default); plain «расписание» is today's."""
    pressed = ctx.value
    if pressed in VIEWS:
        return pressed
    typed = " ".join(ctx.text.lower().split())
    for texts in (ctx.t, ctx.t_for(None)):
        for view in VIEWS:
            if typed in texts.variants(f"timetable.view_words.{view}"):
                return view
    return "today"


@flow.on_start
def show(ctx: Ctx) -> None:
    timetable = ctx.services.timetable
    if not timetable.has_timetable():
        ctx.reply(ctx.t("timetable.not_loaded", group=timetable.group))
        return
    view = _view(ctx)
    if view == "ics":
        days = ctx.services.ics_days
        ctx.send_document(f"{timetable.group}.ics", timetable.ics(days, ctx.t), ctx.t("timetable.ics_sent", days=days))
        return
    today = timetable.today()
    if view in ("today", "tomorrow"):
        day = today if view == "today" else today + timedelta(days=1)
        text = day_text(ctx.t, timetable.semester(), day, timetable.lessons(day), timetable.marks_subgroups)
    else:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if view == "next" else 0)
        text = _week(ctx, monday)
    ctx.update(text, _buttons(ctx, view))  # a press edits its message; a typed word is answered anew


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
    # No semester for the days: the week's title names its parity once, not on every day.
    blocks = [day_text(ctx.t, None, day, lessons, timetable.marks_subgroups) for day, lessons in days]
    return header + "\n\n" + "\n\n".join(blocks)


def _buttons(ctx: Ctx, shown: str) -> list[list]:
    labels = {
        "today": ctx.t("timetable.today"),
        "tomorrow": ctx.t("timetable.tomorrow"),
        "week": ctx.t("timetable.this_week"),
        "next": ctx.t("timetable.next_week"),
    }
    views = [
        ctx.command_button(label, "timetable", view, "secondary", callback=True)
        for view, label in labels.items()
        if view != shown
    ]
    rows = [views[:2], views[2:]]
    extra = [ctx.command_button(ctx.t("timetable.calendar"), "timetable", "ics", "secondary")]
    if ctx.services.timetable.whole_group and "timetable_change" in ctx.services.flow_names:
        extra.append(ctx.command_button(ctx.t("timetable.change"), "timetable_change", None, "primary"))
    if "reminders" in ctx.services.flow_names:
        extra.append(ctx.command_button(ctx.t("timetable.reminders"), "reminders", None, "primary"))
    rows.append(extra[:3])
    return [row for row in rows if row]
