"""«сводка пропусков»: a leader's summaries for a period, and the register as an .xlsx document.

Periods: this month, last month, the semester. The summary lists who missed most (hours, excused
and not) and which subjects were missed most; «📎 Журнал .xlsx» sends the dean's office register.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, in_study_group
from fsm_bot.services.attendance import WHOLE_DAY, register_xlsx

TOP = 40  # a whole group: the ranking is also the per-student summary

flow = Flow(
    name="attendance_report",
    description="attendance_report.description",
    role=Role.DEPUTY,
    needs=[in_study_group("attendance.no_group")],
)


def _period(ctx: Ctx, name: str) -> tuple[date, date]:
    today = ctx.services.attendance.today()
    if name == "prev":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if name == "semester":
        semester = ctx.services.timetable.semester()
        if semester is not None and semester.start <= today:
            return semester.start, min(today, semester.end)
    return today.replace(day=1), today


@flow.on_start
def show(ctx: Ctx) -> None:
    attendance = ctx.services.attendance
    match ctx.choice:
        case ("xlsx", str(period)):
            wants_file = True
        case (str(period),):
            wants_file = False
        case _:
            period, wants_file = "month", False
    if period not in ("month", "prev", "semester"):
        period = "month"
    first, last = _period(ctx, period)
    if wants_file:
        data = register_xlsx(attendance.register(first, last, ctx.t), ctx.t)
        name = f"{attendance.group}_{first:%Y-%m-%d}_{last:%Y-%m-%d}.xlsx"
        ctx.send_document(name, data, ctx.t("attendance_report.file", first=first, last=last))
        return
    records = attendance.group_absences(first, last)
    totals = attendance.totals(records, first, last)
    students = {student.member_id: student for student in attendance.students()}
    lines = [
        ctx.t(
            "attendance_report.header",
            group=attendance.group,
            first=first.strftime("%d.%m"),
            last=last.strftime("%d.%m"),
            hours=attendance.hours_per_lesson,
        )
    ]
    if not records:
        lines.append(ctx.t("attendance_report.nothing"))
    else:
        lines.append(ctx.t("attendance_report.most"))
        ranked = sorted(
            totals.items(),
            key=lambda item: (-item[1].hours, students[item[0]].full_name if item[0] in students else ""),
        )
        for place, (member_id, total) in enumerate(ranked[:TOP], start=1):
            name = students[member_id].full_name if member_id in students else f"#{member_id}"
            lines.append(
                ctx.t(
                    "attendance_report.student",
                    place=place,
                    name=name,
                    hours=total.hours,
                    excused=total.excused_hours,
                    unexcused=total.unexcused_hours,
                )
            )
        subjects = Counter(record.subject for record in records if record.lesson_key != WHOLE_DAY)
        whole_days = sum(1 for record in records if record.lesson_key == WHOLE_DAY)
        if subjects:
            lines.append(ctx.t("attendance_report.subjects"))
            lines += [ctx.t("attendance_report.subject", subject=s, count=n) for s, n in subjects.most_common(10)]
        if whole_days:
            lines.append(ctx.t("attendance_report.whole_days", count=whole_days))
    periods = [
        ctx.command_button(ctx.t(f"attendance_report.period.{name}"), "attendance_report", name, "secondary")
        for name in ("month", "prev", "semester")
        if name != period
    ]
    file_button = ctx.command_button(ctx.t("attendance_report.xlsx"), "attendance_report", ("xlsx", period))
    ctx.reply("\n".join(lines), [periods, [file_button]])
