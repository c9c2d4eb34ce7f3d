"""Absence reasons and the dean's office register read in English by people whose VK app is in English;
what is stored stays the same code in every language."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
import requests
from sqlalchemy import select

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.attendance_models import AbsenceNotice, AbsenceReason
from fsm_bot.storage.repositories import AttendanceRepository
from tests.support import week as this_week
from tests.support.people import enrol
from tests.support.talk import press, say, toggle
from tests.support.week import seed

ENGLISH_APP = 3


@pytest.fixture
def group(sandbox: SandboxClient, database_url: str, start_bot):  # type: ignore[no-untyped-def]
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова", sex=1, lang_id=ENGLISH_APP)["id"]
    students = [
        sandbox.add_user("Пётр", "Алексеев", lang_id=ENGLISH_APP)["id"],
        sandbox.add_user("Вера", "Борисова", lang_id=ENGLISH_APP)["id"],
    ]
    bot: Bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman, "deputies": []}}})
    enrol(bot, students[0], 1, name=("Пётр", "Алексеев"))
    enrol(bot, students[1], 2, name=("Вера", "Борисова"))
    return bot, headman, students


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def test_a_student_gives_notice_with_a_reason_in_english(sandbox: SandboxClient, group) -> None:
    bot, _, students = group
    [dates] = say(sandbox, students[1], "пропущу")
    [lesson] = press(sandbox, students[1], dates, "Today")
    [reason] = press(sandbox, students[1], lesson, "Whole day")
    assert labels(reason)[:3] == ["illness", "official", "other"]
    [confirm] = press(sandbox, students[1], reason, "illness")
    assert confirm["text"].startswith(f"Absence: {this_week.TODAY:%d.%m}, whole day. Reason: illness.")
    press(sandbox, students[1], confirm, "Send")
    stored = bot.database.transaction(lambda session: list(session.scalars(select(AbsenceNotice.reason))))
    assert stored == [AbsenceReason.ILLNESS.value]  # the code, whatever the language of the button


def test_the_register_file_is_in_english(sandbox: SandboxClient, group) -> None:
    bot, headman, _ = group
    [day_question] = say(sandbox, headman, "учёт прогулов")
    [lesson_question] = press(sandbox, headman, day_question, "Today")
    marks = press(sandbox, headman, lesson_question, "09:00 Общая пара")[0]
    for name in ("Алексеев П.", "Борисова В."):
        marks = toggle(sandbox, headman, marks, next(label for label in labels(marks) if label.endswith(name)))
    [reason] = press(sandbox, headman, marks, "Done (2)")
    [reason] = press(sandbox, headman, reason, "A — unexcused")
    [confirm] = press(sandbox, headman, reason, "E — other")
    press(sandbox, headman, confirm, "Save")
    stored = bot.database.transaction(
        lambda session: sorted(
            r.reason for r in AttendanceRepository(session, bot.community_id).absences(this_week.TODAY, this_week.TODAY)
        )
    )
    assert stored == sorted([AbsenceReason.UNEXCUSED, AbsenceReason.OTHER])

    [summary] = say(sandbox, headman, "сводка пропусков")
    [document] = press(sandbox, headman, summary, "📎 Register")
    [attachment] = document["attachments"]
    workbook = openpyxl.load_workbook(io.BytesIO(requests.get(attachment["doc"]["url"], timeout=10).content))
    sheet = workbook["ИВТ-101"]
    assert sheet["A1"].value == "Attendance register of group ИВТ-101"
    assert [sheet.cell(4, column).value for column in (1, 2, 3)] == ["No.", "Surname", "First name"]
    rows = {sheet.cell(row, 2).value: row for row in range(6, sheet.max_row + 1)}
    column = next(c for c in range(4, sheet.max_column + 1) if "Общая пара" in str(sheet.cell(5, c).value))
    assert sheet.cell(rows["Алексеев"], column).value == "A"
    excused = sheet.cell(rows["Борисова"], column)
    assert (excused.value, excused.comment.text) == ("E", "other")
    assert "Total" in [sheet.cell(row, 1).value for row in range(8, sheet.max_row + 1)]


def test_marks_and_a_notice_for_days_are_laid_out_in_english(sandbox: SandboxClient, group) -> None:
    _, headman, students = group
    tomorrow = this_week.TODAY + timedelta(days=1)
    say(sandbox, students[1], "i'll miss")
    [lesson] = say(sandbox, students[1], f"{this_week.TODAY:%d.%m} to {tomorrow:%d.%m}")  # the English «по»
    [reason] = press(sandbox, students[1], lesson, "Whole day")
    [confirm] = press(sandbox, students[1], reason, "illness")
    assert confirm["text"].startswith(f"Absence: {this_week.TODAY:%d.%m}–{tomorrow:%d.%m}, whole day. Reason: illness.")

    [day_question] = say(sandbox, headman, "учёт прогулов")
    [lesson_question] = press(sandbox, headman, day_question, "Today")
    marks = press(sandbox, headman, lesson_question, "09:00 Общая пара")[-1]
    marks = toggle(sandbox, headman, marks, next(label for label in labels(marks) if label.endswith("Алексеев П.")))
    [reason] = press(sandbox, headman, marks, "Done (1)")
    [confirm] = press(sandbox, headman, reason, "A — unexcused")
    assert confirm["text"].startswith(f"{this_week.TODAY:%d.%m} 09:00 Общая пара\n")
    assert "\n• Алексеев Пётр — A\n" in confirm["text"]
    press(sandbox, headman, confirm, "Save")

    [mine] = say(sandbox, students[0], "my absences")
    assert f"Recent absences:\n• {this_week.TODAY:%d.%m} 09:00 Общая пара — A" in mine["text"]
