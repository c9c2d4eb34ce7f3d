"""«учёт прогулов» end to end: the real bot, vk_api over HTTP, the sandbox as VK."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.attendance_models import AbsenceReason
from fsm_bot.storage.repositories import AttendanceRepository
from tests.support import week as this_week
from tests.support.people import enrol
from tests.support.talk import press, say, toggle
from tests.support.week import seed

ATTENDANCE_FLOWS = ["help", "attendance", "absences:mine", "absences:notice", "absences:decision", "attendance_report"]


@pytest.fixture
def group(sandbox: SandboxClient, database_url: str, start_bot):  # type: ignore[no-untyped-def]
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]  # VK's 1: female, «она ответит»
    deputy = sandbox.add_user("Мария", "Иванова", sex=1)["id"]
    names = [
        ("Пётр", "Алексеев"),
        ("Вера", "Борисова"),
        ("Илья", "Васильев"),
        ("Олег", "Громов"),
        ("Нина", "Дёмина"),
        ("Юрий", "Егоров"),
        ("Яна", "Жукова"),
        ("Лев", "Зайцев"),
    ]
    students = [sandbox.add_user(first, last)["id"] for first, last in names]
    bot: Bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman, "deputies": [deputy]}}})
    for number, (student, name) in enumerate(zip(students, names, strict=True)):
        enrol(bot, student, 1 + number % 2, name=name)
    return bot, headman, deputy, students


def member_ids(bot: Bot, vk_ids: list[int]) -> dict[int, int]:
    from fsm_bot.storage.repositories import MemberRepository

    return bot.database.transaction(
        lambda session: {vk: MemberRepository(session, bot.community_id).get(vk).id for vk in vk_ids}  # type: ignore[union-attr]
    )


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def mark_lesson(sandbox: SandboxClient, leader: int, absent: list[str], lesson: str = "09:00 Общая пара") -> dict:
    [day_question] = say(sandbox, leader, "учёт прогулов")
    [lesson_question] = press(sandbox, leader, day_question, "Сегодня")
    [marks] = press(sandbox, leader, lesson_question, lesson)
    for name in absent:
        page = marks
        while not any(label.endswith(name) for label in labels(page)):
            page = toggle(sandbox, leader, page, "▶")
        marks = toggle(sandbox, leader, page, next(label for label in labels(page) if label.endswith(name)))
    return marks


def test_a_headman_marks_a_lesson_with_reasons_and_reopens_it(sandbox: SandboxClient, group) -> None:
    bot, headman, _, students = group
    marks = mark_lesson(sandbox, headman, ["Алексеев П.", "Жукова Я."])
    assert "Отсутствуют: 2 из 10" in marks["text"]
    assert "❌ Жукова Я." in labels(marks)  # six to a page: she is on the second
    assert labels(marks)[-4:] == ["◀", "Готово (2)", "Назад", "Отмена"]
    assert sandbox.snackbars(headman)[-1]["event_data"]["text"] == "Жукова Я.: отсутствует"
    marks = toggle(sandbox, headman, marks, "◀")
    assert "❌ Алексеев П." in labels(marks)

    [reason] = press(sandbox, headman, marks, "Готово (2)")
    assert reason["text"].startswith("Алексеев Пётр — причина пропуска?")
    [reason] = press(sandbox, headman, reason, "у — болезнь")
    assert reason["text"].startswith("Жукова Яна — причина пропуска?")
    [confirm] = press(sandbox, headman, reason, "н — без уважительной")
    assert "• Алексеев Пётр — у (болезнь)\n• Жукова Яна — н" in confirm["text"]
    [saved] = press(sandbox, headman, confirm, "Сохранить")
    assert saved["text"].startswith(f"Сохранено: {this_week.TODAY:%d.%m} 09:00 Общая пара, отсутствовали 2.")

    ids = member_ids(bot, students)
    stored = bot.database.transaction(
        lambda session: [
            (r.member_id, r.reason, r.lesson_key)
            for r in AttendanceRepository(session, bot.community_id).absences(this_week.TODAY, this_week.TODAY)
        ]
    )
    assert sorted(stored) == sorted(
        [(ids[students[0]], AbsenceReason.ILLNESS, "09:00"), (ids[students[6]], AbsenceReason.UNEXCUSED, "09:00")]
    )

    # Reopening shows the saved marks; a correction is saved over them, and the audit trail keeps both.
    [day_question] = say(sandbox, headman, "учёт прогулов")
    [lesson_question] = press(sandbox, headman, day_question, "Сегодня")
    replies = press(sandbox, headman, lesson_question, "09:00 Общая пара", expect=2)
    assert replies[0]["text"] == "Эта пара уже отмечена (отсутствовали: 2). Можно исправить отметки."
    marks = replies[1]
    assert "❌ Алексеев П." in labels(marks)
    marks = toggle(sandbox, headman, marks, "❌ Алексеев П.")
    [confirm] = press(sandbox, headman, marks, "Готово (1)")
    press(sandbox, headman, confirm, "Сохранить")
    audit = bot.database.transaction(
        lambda session: [
            (a.member_id, a.before, a.after)
            for a in AttendanceRepository(session, bot.community_id).audit(
                AttendanceRepository(session, bot.community_id).sheet(1, this_week.TODAY, "09:00").id  # type: ignore[union-attr]
            )
        ]
    )
    assert (ids[students[0]], "illness", "present") in audit
    assert len(audit) == 3


def test_a_future_day_and_a_forged_student_are_refused(sandbox: SandboxClient, group) -> None:
    bot, headman, _, _ = group
    [day_question] = say(sandbox, headman, "учёт прогулов")
    sent = sandbox.send(headman, (this_week.TODAY + timedelta(days=2)).strftime("%d.%m"))
    [answer] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"], timeout=15)
    assert answer["text"].startswith("Этот день ещё не наступил")

    [lesson_question] = press(sandbox, headman, day_question, "Сегодня")
    [marks] = press(sandbox, headman, lesson_question, "09:00 Общая пара")
    stranger = sandbox.add_user("Чужой", "Студент")["id"]
    enrol(bot, stranger, None, group="ИВТ-102")
    payload = json.loads(marks["keyboard"]["buttons"][0][0]["action"]["payload"])
    payload["b"] = ["t", member_ids(bot, [stranger])[stranger]]  # a member of another group
    sandbox.send(headman, "Студент Ч.", payload=payload)  # what a modified client could send
    [confirm] = press(sandbox, headman, marks, "Готово (0)")
    assert "Отсутствуют 0 из 10" in confirm["text"] and "Студент" not in confirm["text"]
    [saved] = press(sandbox, headman, confirm, "Сохранить")
    assert saved["text"].startswith("Сохранено:")
    assert (
        bot.database.transaction(
            lambda session: AttendanceRepository(session, bot.community_id).absences(this_week.TODAY, this_week.TODAY)
        )
        == []
    )


def test_an_approved_notice_pre_marks_the_student_as_excused(sandbox: SandboxClient, group) -> None:
    _, headman, deputy, students = group
    student = students[1]  # Борисова Вера
    [dates] = say(sandbox, student, "пропущу")
    [lesson] = press(sandbox, student, dates, "Сегодня")
    [reason] = press(sandbox, student, lesson, "Весь день")
    [confirm] = press(sandbox, student, reason, "болезнь")
    assert confirm["text"].startswith(f"Пропуск: {this_week.TODAY:%d.%m}, весь день. Причина: болезнь.")
    [sent] = press(sandbox, student, confirm, "Отправить")
    assert sent["text"] == "Отправлено старосте. Я напишу, когда она ответит."

    [request] = sandbox.wait_for_messages(headman, 1, lambda m: "предупреждает о пропуске" in m["text"], timeout=15)
    assert request["text"].startswith("Борисова Вера (ИВТ-101) предупреждает о пропуске:")
    assert sandbox.wait_for_messages(deputy, 1, lambda m: "предупреждает" in m["text"], timeout=15)
    [answer] = press(sandbox, headman, request, "Уважительная")
    assert answer["text"].startswith("Борисова Вера: пропуск отмечен как уважительный")
    told = sandbox.wait_for_messages(student, 1, lambda m: m["text"].startswith("Староста подтвердил"), timeout=15)
    assert told[0]["text"] == f"Староста подтвердила: пропуск {this_week.TODAY:%d.%m} — по уважительной причине."

    [late] = [m for m in sandbox.messages(deputy) if "предупреждает" in m["text"]]
    [refused] = press(sandbox, deputy, late, "Отклонить")
    assert refused["text"] == "По этому предупреждению уже принято решение."

    [day_question] = say(sandbox, headman, "учёт прогулов")
    [lesson_question] = press(sandbox, headman, day_question, "Сегодня")
    replies = press(sandbox, headman, lesson_question, "09:00 Общая пара", expect=2)
    assert replies[0]["text"] == "Предупредили заранее и отмечены как уважительные: 1."
    assert "❌ Борисова В." in labels(replies[1])
    [confirm] = press(sandbox, headman, replies[1], "Готово (1)")  # no reason asked: the notice gives it
    assert "• Борисова Вера — у (болезнь)" in confirm["text"]
    press(sandbox, headman, confirm, "Сохранить")

    [mine] = say(sandbox, student, "мои пропуски")
    assert "За этот месяц: пропущено пар 1, 2 ак. ч. (по уважительной 2, без — 0)." in mine["text"]
    assert f"• {this_week.TODAY:%d.%m} 09:00 Общая пара — у (болезнь)" in mine["text"]


def test_two_leaders_marking_one_lesson_at_once_do_not_overwrite_silently(sandbox: SandboxClient, group) -> None:
    bot, headman, deputy, students = group
    headman_marks = mark_lesson(sandbox, headman, ["Алексеев П."])
    deputy_marks = mark_lesson(sandbox, deputy, ["Громов О."])
    [reason] = press(sandbox, deputy, deputy_marks, "Готово (1)")
    [confirm] = press(sandbox, deputy, reason, "н — без уважительной")
    [saved] = press(sandbox, deputy, confirm, "Сохранить")
    assert saved["text"].startswith("Сохранено:")

    [reason] = press(sandbox, headman, headman_marks, "Готово (1)")
    [confirm] = press(sandbox, headman, reason, "у — официально")
    replies = press(sandbox, headman, confirm, "Сохранить", expect=2)
    assert replies[0]["text"].startswith("Пока вы отмечали, Иванова Мария сохранила отметки этой пары в ")
    assert "• Громов Олег — н" in replies[0]["text"]
    ids = member_ids(bot, students)

    def stored() -> list[tuple[int, AbsenceReason]]:
        return bot.database.transaction(
            lambda session: sorted(
                (r.member_id, r.reason)
                for r in AttendanceRepository(session, bot.community_id).absences(this_week.TODAY, this_week.TODAY)
            )
        )

    assert stored() == [(ids[students[3]], AbsenceReason.UNEXCUSED)]  # the deputy's marks stand so far
    [done] = press(sandbox, headman, replies[1], "Сохранить мои")
    assert done["text"].startswith("Сохранено:")
    assert stored() == [(ids[students[0]], AbsenceReason.OFFICIAL)]


def test_the_summary_and_the_register_file(sandbox: SandboxClient, group) -> None:
    import io

    import openpyxl
    import requests

    _, headman, _, _ = group
    marks = mark_lesson(sandbox, headman, ["Алексеев П.", "Васильев И."])
    [reason] = press(sandbox, headman, marks, "Готово (2)")
    [reason] = press(sandbox, headman, reason, "н — без уважительной")
    [confirm] = press(sandbox, headman, reason, "у — другое")
    press(sandbox, headman, confirm, "Сохранить")
    [summary] = say(sandbox, headman, "сводка пропусков")
    assert summary["text"].startswith(
        f"Пропуски ИВТ-101 за {this_week.TODAY.replace(day=1):%d.%m}–{this_week.TODAY:%d.%m}"
    )
    assert "1. Алексеев Пётр — 2 ак. ч. (у 0, н 2)" in summary["text"]
    assert "2. Васильев Илья — 2 ак. ч. (у 2, н 0)" in summary["text"]
    assert "• Общая пара — 2" in summary["text"]

    [document] = press(sandbox, headman, summary, "📎 Журнал .xlsx")
    [attachment] = document["attachments"]
    assert attachment["type"] == "doc" and attachment["doc"]["title"].endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(requests.get(attachment["doc"]["url"], timeout=10).content))
    sheet = workbook["ИВТ-101"]
    assert sheet["A1"].value == "Журнал посещаемости группы ИВТ-101"
    rows = {sheet.cell(row, 2).value: row for row in range(6, 6 + 10)}
    lesson_column = next(
        col
        for col in range(4, sheet.max_column + 1)
        if sheet.cell(5, col).value and "Общая пара" in sheet.cell(5, col).value
    )
    assert sheet.cell(rows["Алексеев"], lesson_column).value == "н"
    assert sheet.cell(rows["Васильев"], lesson_column).value == "у"
    assert sheet.cell(rows["Борисова"], lesson_column).value in (None, "")
