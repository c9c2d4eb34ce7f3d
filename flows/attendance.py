"""«учёт прогулов»: a leader marks who missed a lesson, as headmen keep it for the dean's office.

day -> lesson (from the timetable, or the whole day) -> the group as toggles (each press edits the
same message and answers with a snackbar) -> a reason for each absentee (н, or у: illness, official,
other) -> confirm -> saved. Reopening a lesson shows its saved marks for correction; students with
an approved advance notice come pre-marked as excused. The draft lives in the dialog's data, so a
crash or restart loses nothing; saving checks that nobody saved the lesson meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Transition, Unsaved, in_study_group
from fsm_bot.engine.widgets import DayPicker, Item, PagedMultiSelect, Toggled, way_out
from fsm_bot.services.attendance import WHOLE_DAY, AbsenceReason, Student, lesson_key
from fsm_bot.services.dates import day_label, parse_day

RECENT_DAYS = 7
DAYS = DayPicker(per_row=3, most=6)
MARKS = PagedMultiSelect(marks=("❌ ", "✅ "))  # absent, present; 6 to a page (widgets.MAX_PAGE_SIZE)
REASONS = (AbsenceReason.UNEXCUSED, AbsenceReason.ILLNESS, AbsenceReason.OFFICIAL, AbsenceReason.OTHER)


@dataclass
class Marking:
    """The lesson being marked, saved with the dialog as JSON at every step (a crash loses no mark)."""

    day: str = ""  # ISO date
    key: str = ""  # services.attendance.lesson_key, or WHOLE_DAY
    subject: str = ""
    start: str | None = None  # "09:00"; None for the whole day
    version: int = 0  # the sheet's version the marks were read at: the save is a compare-and-set on it
    their_version: int = 0  # the version someone else saved meanwhile (the conflict step)
    absent: dict[str, str] = field(default_factory=dict)  # member id (a JSON key) -> reason, "" not asked yet
    notices: dict[str, int] = field(default_factory=dict)  # member id -> the approved notice that pre-marked them
    asked: list[str] = field(default_factory=list)  # whose reasons were asked, to ask again after «назад»
    page: int = 0  # of the group's list

    @property
    def lesson_day(self) -> date:
        return date.fromisoformat(self.day)


flow = Flow(
    name="attendance",
    description="attendance.description",
    role=Role.DEPUTY,
    needs=[in_study_group("attendance.no_group")],
    states=["day", "lesson", "marks", "reasons", "confirm", "conflict"],
    transitions=[
        Transition("day_chosen", "day", "lesson"),
        Transition("lesson_chosen", "lesson", "marks"),
        Transition("need_reasons", "marks", "reasons"),
        Transition("nobody_to_ask", "reasons", "marks"),
        Transition("marked", ["marks", "reasons"], "confirm"),
        Transition("edit", ["confirm", "conflict"], "marks"),
        Transition("conflict", ["confirm", "conflict"], "conflict"),  # «оставить мои» can meet another save
    ],
    data=Marking,
    unsaved=Unsaved("attendance.leave_warning", states=("reasons", "confirm", "conflict")),
)


# --- day


@flow.asks("day")
def ask_day(ctx: Ctx[Marking]) -> None:
    attendance = ctx.services.attendance
    today = attendance.today()
    days = [today - timedelta(days=n) for n in range(RECENT_DAYS)]
    with_lessons = [day for day in days if attendance.lessons(day)]
    rows = DAYS.rows(ctx, [today, *with_lessons], label=lambda day: day_label(ctx.t, day, today))
    ctx.ask(ctx.t("attendance.ask_day"), [*rows, way_out(ctx)])


@flow.receives("day")
def got_day(ctx: Ctx[Marking]) -> None:
    today = ctx.services.attendance.today()
    day = DAYS.read(ctx, lambda text: parse_day(text, today, "past"))
    if day is None:
        ctx.reply(ctx.t("attendance.bad_day"))
        return
    if day > today:
        ctx.reply(ctx.t("attendance.future_day"))
        return
    ctx.data.day = day.isoformat()
    ctx.go("day_chosen")


# --- lesson


@flow.asks("lesson")
def ask_lesson(ctx: Ctx[Marking]) -> None:
    day = ctx.data.lesson_day
    lessons = ctx.services.attendance.lessons(day)
    # Two to a row: VK's inline keyboard has 6 rows for its 10 buttons (a day of 6 lessons, one to a row, crashed).
    options = [
        ctx.option(ctx.t("attendance.lesson_option", start=lesson.start, subject=lesson.subject), lesson_key(lesson))
        for lesson in lessons[:8]
    ]
    rows = [options[index : index + 2] for index in range(0, len(options), 2)]
    rows.append([ctx.option(ctx.t("attendance.whole_day"), WHOLE_DAY)])
    key = "attendance.ask_lesson" if lessons else "attendance.ask_lesson_none"
    ctx.ask(ctx.t(key, date=day.strftime("%d.%m")), rows)


@flow.receives("lesson")
def got_lesson(ctx: Ctx[Marking]) -> None:
    attendance = ctx.services.attendance
    day = ctx.data.lesson_day
    chosen = ctx.button
    lessons = {lesson_key(lesson): lesson for lesson in attendance.lessons(day)}
    if chosen == WHOLE_DAY:
        subject, start = ctx.t("attendance.whole_day"), None
    elif chosen in lessons:
        subject, start = lessons[chosen].subject, lessons[chosen].start.strftime("%H:%M")
    else:
        ctx.reply(ctx.t("attendance.pick_lesson"))
        return
    version, saved = attendance.saved(day, chosen)
    absent = {str(member_id): reason.value for member_id, reason in saved.items()}
    notices: dict[str, int] = {}
    if version == 0:
        for member_id, (reason, notice_id) in attendance.from_notices(day, chosen).items():
            absent[str(member_id)] = reason.value
            notices[str(member_id)] = notice_id
    data = ctx.data
    data.key, data.subject, data.start, data.version = chosen, subject, start, version
    data.absent, data.notices, data.page = absent, notices, 0
    if version:
        ctx.reply(ctx.t("attendance.reopened", count=len(absent)))
    elif notices:
        ctx.reply(ctx.t("attendance.prefilled", count=len(notices)))
    ctx.go("lesson_chosen")


# --- marks


def _students(ctx: Ctx[Marking]) -> list[Student]:
    return ctx.services.attendance.students()


def _marks_view(ctx: Ctx[Marking]) -> tuple[str, list[list]]:
    students = _students(ctx)
    absent = ctx.data.absent
    view = MARKS.view(
        ctx,
        [Item(s.member_id, s.short_name) for s in students],
        {int(member) for member in absent},
        ctx.t("attendance.done", count=len(absent)),
    )
    text = ctx.t(
        "attendance.marks",
        lesson=_lesson_title(ctx),
        absent=len(absent),
        total=len(students),
        page=view.page + 1,
        pages=view.pages,
    )
    return text, view.rows


@flow.asks("marks")
def ask_marks(ctx: Ctx[Marking]) -> None:
    text, rows = _marks_view(ctx)
    ctx.ask(text, rows)


@flow.receives("marks")
def got_mark(ctx: Ctx[Marking]) -> None:
    absent = ctx.data.absent
    match MARKS.pressed(ctx):
        case Toggled(key):
            students = {s.member_id: s for s in _students(ctx)}
            if key not in students:  # a forged payload, or someone who left the group meanwhile
                ctx.snackbar(ctx.t("attendance.not_in_group"))
                return
            member = str(key)  # the draft is JSON: its keys are strings
            if member in absent:
                del absent[member]
                ctx.data.notices.pop(member, None)
                ctx.snackbar(ctx.t("attendance.now_present", name=students[key].short_name))
            else:
                absent[member] = ""
                ctx.snackbar(ctx.t("attendance.now_absent", name=students[key].short_name))
        case "done":
            ctx.go("need_reasons" if any(not reason for reason in absent.values()) else "marked")
            return
        case "turned":
            pass
        case _:
            ctx.ask_again()  # typed text: show the list again
            return
    text, rows = _marks_view(ctx)
    ctx.update(text, rows)


# --- reasons


@flow.asks("reasons")
def ask_reason(ctx: Ctx[Marking]) -> None:
    absent = ctx.data.absent
    waiting = [member for member, reason in absent.items() if not reason]
    if not waiting:
        # «назад» from the confirmation (issue 15): every reason is given, so this step asks again the
        # ones it asked before; nobody left to ask (all unmarked meanwhile) means the marks instead.
        asked = [member for member in ctx.data.asked if member in absent]
        if not asked:
            ctx.go("nobody_to_ask")
            return
        for member in asked:
            absent[member] = ""
        waiting = asked
    ctx.data.asked = list(dict.fromkeys([*ctx.data.asked, *waiting]))
    students = {str(s.member_id): s for s in _students(ctx)}
    member = waiting[0]
    name = students[member].full_name if member in students else member
    buttons = [
        ctx.option(ctx.t(f"attendance.reason.{reason.value}"), ("r", int(member), reason.value)) for reason in REASONS
    ]
    rows = [buttons[:2], buttons[2:]]
    if len(waiting) > 1:
        rows.append([ctx.option(ctx.t("attendance.rest_unexcused", count=len(waiting)), "rest")])
    ctx.ask(ctx.t("attendance.ask_reason", name=name, left=len(waiting)), rows)


@flow.receives("reasons")
def got_reason(ctx: Ctx[Marking]) -> None:
    absent = ctx.data.absent
    match ctx.choice:
        case ("rest",):
            for member, reason in absent.items():
                if not reason:
                    absent[member] = AbsenceReason.UNEXCUSED.value
        case ("r", int(member_id), str(reason)) if str(member_id) in absent and reason in {r.value for r in REASONS}:
            absent[str(member_id)] = reason  # keyed by person: a second press of an old button changes nothing else
        case _:
            ctx.ask_again()
            return
    if any(not reason for reason in absent.values()):
        ctx.ask_again()  # the next absentee's reason
    else:
        ctx.go("marked")


# --- confirm and save


def _summary(ctx: Ctx[Marking]) -> str:
    students = {str(s.member_id): s for s in _students(ctx)}
    absent = ctx.data.absent
    lines = [
        ctx.t("attendance.mark_line", name=students[member].full_name, mark=ctx.t(f"attendance.mark.{reason}"))
        for member, reason in sorted(absent.items(), key=lambda item: students[item[0]].full_name)
        if member in students
    ]
    return "\n".join(lines) or ctx.t("attendance.everyone_present")


@flow.asks("confirm")
def ask_confirm(ctx: Ctx[Marking]) -> None:
    text = ctx.t(
        "attendance.confirm",
        lesson=_lesson_title(ctx),
        absent=len(ctx.data.absent),
        total=len(_students(ctx)),
        list=_summary(ctx),
    )
    ctx.ask(
        text,
        [
            [
                ctx.option(ctx.t("attendance.save"), "save", "positive"),
                ctx.option(ctx.t("attendance.edit"), "edit"),
            ]
        ],
    )


@flow.receives("confirm")
def got_confirm(ctx: Ctx[Marking]) -> None:
    if ctx.button == "edit":
        ctx.go("edit")
    elif ctx.button == "save":
        _save(ctx, ctx.data.version)
    else:
        ctx.ask_again()


def _save(ctx: Ctx[Marking], expected_version: int) -> None:
    ctx.require(Role.DEPUTY)
    attendance = ctx.services.attendance
    marks = {int(member): AbsenceReason(reason) for member, reason in ctx.data.absent.items()}
    start = time.fromisoformat(ctx.data.start) if ctx.data.start else None
    try:
        result = attendance.save(
            ctx.data.lesson_day,
            ctx.data.key,
            marks,
            expected_version,
            ctx.data.subject,
            start,
            {int(member): notice for member, notice in ctx.data.notices.items()},
        )
    except (PermissionError, ValueError):
        ctx.finish(ctx.t("attendance.refused"))
        return
    if result.saved:
        ctx.finish(ctx.t("attendance.saved", lesson=_lesson_title(ctx), absent=len(marks)))
        return
    _, theirs = attendance.saved(ctx.data.lesson_day, ctx.data.key)
    students = {s.member_id: s for s in _students(ctx)}
    their_list = "\n".join(
        ctx.t("attendance.mark_line", name=students[m].full_name, mark=ctx.t(f"attendance.mark.{r.value}"))
        for m, r in theirs.items()
        if m in students
    ) or ctx.t("attendance.everyone_present")
    ctx.data.their_version = result.version
    ctx.reply(
        ctx.t(
            "attendance.conflict",
            name=attendance.marker_name(result.other_by or 0),
            sex=attendance.marker_sex(result.other_by or 0),
            at=result.other_at.astimezone(ctx.services.timezone).strftime("%H:%M") if result.other_at else "",
            list=their_list,
        )
    )
    ctx.go("conflict")


@flow.asks("conflict")
def ask_conflict(ctx: Ctx[Marking]) -> None:
    ctx.ask(
        ctx.t("attendance.conflict_question"),
        [
            [ctx.option(ctx.t("attendance.keep_mine"), "mine", "negative")],
            [ctx.option(ctx.t("attendance.keep_theirs"), "theirs", "positive")],
            [ctx.option(ctx.t("attendance.edit"), "edit")],
        ],
    )


@flow.receives("conflict")
def got_conflict(ctx: Ctx[Marking]) -> None:
    if ctx.button == "mine":
        _save(ctx, ctx.data.their_version)
    elif ctx.button == "theirs":
        ctx.finish(ctx.t("attendance.kept_theirs"))
    elif ctx.button == "edit":
        ctx.data.version = ctx.data.their_version
        ctx.go("edit")
    else:
        ctx.ask_again()


# --- helpers


def _lesson_title(ctx: Ctx[Marking]) -> str:
    data = ctx.data
    if data.start:
        return ctx.t("attendance.lesson_title", day=data.lesson_day, start=data.start, subject=data.subject)
    return ctx.t("attendance.day_title", day=data.lesson_day, subject=data.subject)
