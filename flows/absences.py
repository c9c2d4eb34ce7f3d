"""A student's side of the register: «мои пропуски», «пропущу», and the leader's decision on a notice.

«пропущу»: dates (one day or a range) -> which lesson (from the timetable of the first day, or all
day) -> the reason -> confirm; the group's leaders get approve/reject buttons; the student is told
the decision. An approved notice pre-marks the student as excused when the lesson is marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Texts, Transition, Unsaved, in_study_group
from fsm_bot.engine.widgets import DayPicker, way_out
from fsm_bot.services.attendance import WHOLE_DAY, AbsenceReason, NoticeStatus, lesson_key
from fsm_bot.services.community import headman_sex
from fsm_bot.services.dates import parse_day
from fsm_bot.services.inputs import unpacked

NOTICE_REASONS = (AbsenceReason.ILLNESS, AbsenceReason.OFFICIAL, AbsenceReason.OTHER)
MAX_NOTICE_DAYS = 31
DAYS = DayPicker(per_row=2, most=2)

NEEDS_GROUP = in_study_group("timetable.no_group")


@dataclass
class Notice:
    """The notice being written, saved with the dialog as JSON at every step."""

    first: str = ""  # ISO dates of the span
    last: str = ""
    key: str = ""  # services.attendance.lesson_key, or WHOLE_DAY
    lesson: str = ""  # as the summary names it
    reason: str = ""  # an AbsenceReason value
    comment: str = ""  # the words typed instead of a reason button

    @property
    def span(self) -> tuple[date, date]:
        return date.fromisoformat(self.first), date.fromisoformat(self.last)


mine = Flow(
    name="my_absences",
    description="my_absences.description",
    needs=[NEEDS_GROUP],
)
notice = Flow(
    name="absence_notice",
    description="absence_notice.description",
    needs=[NEEDS_GROUP],
    states=["dates", "lesson", "reason", "confirm"],
    transitions=[
        Transition("dated", "dates", "lesson"),
        Transition("lesson_chosen", "lesson", "reason"),
        Transition("reasoned", "reason", "confirm"),
        Transition("edit", "confirm", "dates"),
    ],
    data=Notice,
    unsaved=Unsaved("absence_notice.leave_warning", states=("lesson", "reason", "confirm")),
)
decision = Flow(name="notice_decision", description="notice_decision.description", role=Role.DEPUTY, in_menu=False)


# --- «мои пропуски»


@mine.on_start
def show_mine(ctx: Ctx) -> None:
    attendance = ctx.services.attendance
    today = attendance.today()
    semester = ctx.services.timetable.semester()
    month_first = today.replace(day=1)
    semester_first = semester.start if semester is not None and semester.start <= today else month_first
    records, semester_totals = attendance.my_absences(semester_first, today)
    _, month_totals = attendance.my_absences(month_first, today)
    lines = [
        ctx.t(
            "my_absences.month",
            lessons=month_totals.lessons,
            hours=month_totals.hours,
            excused=month_totals.excused_hours,
            unexcused=month_totals.unexcused_hours,
        ),
        ctx.t(
            "my_absences.semester",
            lessons=semester_totals.lessons,
            hours=semester_totals.hours,
            excused=semester_totals.excused_hours,
            unexcused=semester_totals.unexcused_hours,
        ),
    ]
    if records:
        lines.append(ctx.t("my_absences.recent"))
        for record in records[-10:]:
            mark = ctx.t(f"attendance.mark.{record.reason.value}")
            key = "my_absences.day_line" if record.lesson_key == WHOLE_DAY else "my_absences.lesson_line"
            lines.append(ctx.t(key, date=record.date, time=record.lesson_key, subject=record.subject, mark=mark))
    else:
        lines.append(ctx.t("my_absences.none"))
    ctx.reply("\n".join(lines), [[ctx.command_button(ctx.t("my_absences.tell"), "absence_notice", None, "secondary")]])


# --- «пропущу»


@notice.asks("dates")
def ask_dates(ctx: Ctx[Notice]) -> None:
    today = ctx.services.attendance.today()
    names = {today: ctx.t("timetable.today"), today + timedelta(days=1): ctx.t("timetable.tomorrow")}
    ctx.ask(ctx.t("absence_notice.ask_dates"), [*DAYS.rows(ctx, names, label=names.__getitem__), way_out(ctx)])


@notice.receives("dates")
def got_dates(ctx: Ctx[Notice]) -> None:
    today = ctx.services.attendance.today()
    span = DAYS.read(ctx, lambda text: _parse_span(text, today))
    if span is None:
        ctx.reply(ctx.t("absence_notice.bad_dates"))
        return
    first, last = span
    if last < today:
        ctx.reply(ctx.t("absence_notice.past"))
        return
    if (last - first).days >= MAX_NOTICE_DAYS:
        ctx.reply(ctx.t("absence_notice.too_long", days=MAX_NOTICE_DAYS))
        return
    ctx.data.first, ctx.data.last = first.isoformat(), last.isoformat()
    ctx.go("dated")


@notice.asks("lesson")
def ask_notice_lesson(ctx: Ctx[Notice]) -> None:
    first, last = ctx.data.span
    rows = [[ctx.option(ctx.t("attendance.whole_day"), WHOLE_DAY, "primary")]]
    if first == last:
        lessons = [lesson for lesson in ctx.services.timetable.lessons(first) if lesson.takes_place]
        options = [
            ctx.option(
                ctx.t("absence_notice.lesson_option", start=lesson.start, subject=lesson.subject), lesson_key(lesson)
            )
            for lesson in lessons[:8]
        ]
        # Two to a row: VK's inline keyboard has 6 rows for its 10 buttons (6 lessons, one to a row, crashed).
        rows += [options[index : index + 2] for index in range(0, len(options), 2)]
    ctx.ask(ctx.t("absence_notice.ask_lesson"), rows)


@notice.receives("lesson")
def got_notice_lesson(ctx: Ctx[Notice]) -> None:
    choice = ctx.button
    first, last = ctx.data.span
    keys = {lesson_key(lesson): lesson.subject for lesson in ctx.services.timetable.lessons(first)}
    if choice == WHOLE_DAY:
        ctx.data.key, ctx.data.lesson = WHOLE_DAY, ctx.t("absence_notice.whole_day")
    elif choice is not None and choice in keys and first == last:
        ctx.data.key, ctx.data.lesson = choice, f"{choice} {keys[choice]}"
    else:
        ctx.reply(ctx.t("attendance.pick_lesson"))
        return
    ctx.go("lesson_chosen")


@notice.asks("reason")
def ask_notice_reason(ctx: Ctx[Notice]) -> None:
    ctx.ask(
        ctx.t("absence_notice.ask_reason"),
        [[ctx.option(ctx.t(f"absence_notice.reason.{reason.value}"), reason.value)] for reason in NOTICE_REASONS],
    )


@notice.receives("reason")
def got_notice_reason(ctx: Ctx[Notice]) -> None:
    if ctx.button in {reason.value for reason in NOTICE_REASONS}:
        ctx.data.reason, ctx.data.comment = ctx.button, ""
    elif ctx.text and len(ctx.text) <= 200:  # typed: «other», with the words as the comment
        ctx.data.reason, ctx.data.comment = AbsenceReason.OTHER.value, ctx.text
    else:
        ctx.reply(ctx.t("absence_notice.bad_reason"))
        return
    ctx.go("reasoned")


def _notice_text(ctx: Ctx[Notice], t: Texts | None = None) -> str:
    """The notice in words, in `t`'s language (a leader's) or the student's own."""
    t = t or ctx.t
    data = ctx.data
    first, last = data.span
    when = t("absence_notice.one_day", day=first) if first == last else t("absence_notice.days", first=first, last=last)
    reason = t(f"absence_notice.reason.{data.reason}")
    if data.comment:
        reason = t("absence_notice.reason_comment", reason=reason, comment=data.comment)
    return t("absence_notice.summary", when=when, lesson=data.lesson, reason=reason)


@notice.asks("confirm")
def ask_notice_confirm(ctx: Ctx[Notice]) -> None:
    ctx.ask(
        _notice_text(ctx) + "\n\n" + ctx.t("absence_notice.send_question"),
        [
            [
                ctx.option(ctx.t("absence_notice.send"), "send", "positive"),
                ctx.option(ctx.t("attendance.edit"), "edit"),
            ]
        ],
    )


@notice.receives("confirm")
def got_notice_confirm(ctx: Ctx[Notice]) -> None:
    if ctx.button == "edit":
        ctx.go("edit")
        return
    if ctx.button != "send":
        ctx.ask_again()
        return
    attendance = ctx.services.attendance
    data = ctx.data
    created = attendance.create_notice(*data.span, data.key, AbsenceReason(data.reason), data.comment)
    leaders = ctx.services.leaders_of(attendance.group or "")
    for leader in leaders:
        if leader.vk_id == ctx.member.vk_id:
            continue
        theirs = ctx.t_for(leader)  # the leader reads it in their language
        request = (
            theirs("absence_notice.to_leader", name=ctx.member.full_name, group=attendance.group)
            + "\n"
            + _notice_text(ctx, theirs)
        )
        buttons = [
            [
                ctx.command_button(theirs("absence_notice.approve"), "notice_decision", ("a", created.id), "positive"),
                ctx.command_button(theirs("absence_notice.reject"), "notice_decision", ("r", created.id), "negative"),
            ]
        ]
        ctx.send_to(leader.vk_id, request, buttons)
    ctx.finish(ctx.t("absence_notice.sent", sex=headman_sex(leaders)) if leaders else ctx.t("absence_notice.no_leader"))


# --- the leader's decision


@decision.on_start
def decide(ctx: Ctx) -> None:
    verdict = _verdict(ctx)
    attendance = ctx.services.attendance
    found = attendance.notice_for_leader(verdict[1]) if verdict is not None else None
    if verdict is None or found is None:
        ctx.reply(ctx.t("notice_decision.not_yours"))
        return
    request, student = found
    approved = verdict[0] == "a"
    if request.status != NoticeStatus.PENDING.value or not attendance.decide(request.id, approved):
        ctx.reply(ctx.t("notice_decision.already"))
        return
    ctx.reply(ctx.t("notice_decision.approved" if approved else "notice_decision.rejected", name=student.full_name))
    theirs = ctx.t_for(ctx.services.locales_of([student.vk_id])[student.vk_id])
    first, last = request.first_date, request.last_date
    when = (
        theirs("notice_decision.one_day", day=first)
        if first == last
        else theirs("notice_decision.days", first=first, last=last)
    )
    ctx.send_to(
        student.vk_id,
        theirs(
            "notice_decision.student_approved" if approved else "notice_decision.student_rejected",
            when=when,
            sex=ctx.member.sex,
        ),
    )


def _verdict(ctx: Ctx) -> tuple[str, int] | None:
    """What the pressed button decides: ("a", notice id) approves, ("r", notice id) rejects."""
    match unpacked(ctx.choice):  # buttons sent before 2026-12 carried "a:<id>"
        case ("a" | "r" as verdict, int(notice_id)):
            return verdict, notice_id
    return None


def _parse_span(text: str, today: date) -> tuple[date, date] | None:
    """ "2026-12-03", "03.12", "03.12-05.12", "03.12 – 05.12", "03.12 по 05.12", "03.12 to 05.12"."""
    single = parse_day(text, today)
    if single is not None:
        return single, single
    for separator in ("–", "—", " по ", " to ", "-"):
        if separator in text:
            head, _, tail = text.partition(separator)
            first, last = parse_day(head, today), parse_day(tail, today)
            if first is not None and last is not None:
                return (first, last) if first <= last else None
    return None
