"""The headman sends the timetable as a document (issue 17, point 4): real bot, real vk_api, the sandbox as VK.

The group starts with the week of tests/support/week.py (lessons every day at 09:00, 10:45 and 13:00). The
headman sends a new week as a .yaml document with nothing else: a preview with the lessons per weekday and
their weeks, the semester, what changes; «Применить» replaces the week in that step, a subscribed student
gets the digest, sees the new lessons at once in «расписание», and the reminders follow the new times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.timetable import Parity, Slot, parity_of
from tests.support import week as this_week
from tests.support.people import enrol
from tests.support.talk import dialog_of, press, say
from tests.support.waiting import replanned, settled
from tests.support.week import MOSCOW, SEMESTER, SLOTS, seed

StartBot = Callable[..., Bot]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def week_yaml(lessons: list[str], groups: str = "") -> bytes:
    """A timetable file of ИВТ-101 with `lessons` (YAML flow mappings without the day) on every day."""
    semester = f"semester: {{start: {SEMESTER.start}, end: {SEMESTER.end}, first_week: odd}}\n"
    rows = [f"    - {{day: {day}, {lesson}}}" for day in DAYS for lesson in lessons]
    return (semester + "groups:\n  ИВТ-101:\n" + "\n".join(rows) + "\n" + groups).encode("utf-8")


NEW_WEEK = week_yaml(
    [
        'start: "09:00", end: "10:30", subject: Общая пара, kind: лекция, teacher: Иванов И. И., room: "301"',
        'start: "16:00", end: "17:30", subject: Теория автоматов, kind: лекция, room: "404"',
        'start: "18:00", end: "19:30", subject: Нечётный семинар, room: "118", weeks: odd, subgroup: 1',
    ],
    groups='  ИВТ-102:\n    - {day: mon, start: "09:00", end: "10:30", subject: Чужая пара}\n',
)


@pytest.fixture
def group(sandbox: SandboxClient, database_url: str, start_bot: StartBot) -> tuple[Bot, int, int]:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    student = sandbox.add_user("Пётр", "Первый")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}})
    enrol(bot, student, 1)

    def subscribe(session) -> None:  # type: ignore[no-untyped-def]
        member = MemberRepository(session, bot.community_id).get(student)
        assert member is not None
        SubscriptionRepository(session, bot.community_id).put(member.id, SubscriptionKind.BEFORE_EACH, None, 15)

    bot.database.transaction(subscribe)
    return bot, headman, student


def stored_week(bot: Bot, name: str = "ИВТ-101") -> list[Slot]:
    def read(session) -> list[Slot]:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).find_group(bot.community_id, name)
        assert group is not None
        return TimetableRepository(session, bot.community_id).slots(group.id)

    return bot.database.transaction(read)


def job_at(bot: Bot, clock: time) -> str:
    """The id of the reminder job at the next `clock` (Moscow time)."""
    now = datetime.now(MOSCOW)
    moment = datetime.combine(now.date(), clock, tzinfo=MOSCOW)
    if moment <= now:
        moment += timedelta(days=1)
    return f"reminders:{bot.community_id}:{moment.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%S}"


def test_a_timetable_sent_as_a_document_is_previewed_applied_and_shown_to_a_student_at_once(
    sandbox: SandboxClient, group: tuple[Bot, int, int]
) -> None:
    bot, headman, student = group
    assert bot.scheduler is not None
    assert job_at(bot, time(15, 45)) not in bot.scheduler.job_ids("reminders:")  # no 16:00 lesson yet

    document = sandbox.add_file(headman, "весна.yaml", NEW_WEEK)
    sent = sandbox.send(headman, "", attachments=[document])  # no words, no dialog: the file says it all
    others, preview = sandbox.wait_for_messages(headman, 2, since=sent["message_id"])
    assert "ИВТ-102" in others["text"]  # another group's lessons in the file are left alone
    text = preview["text"]
    assert text.startswith("📋 Расписание ИВТ-101 из «весна.yaml»: пар в неделю 21.")
    assert "Пн:\n  09:00–10:30 Общая пара (лекция) · каждую неделю\n  16:00–17:30 Теория автоматов (лекция)" in text
    assert "18:00–19:30 Нечётный семинар · по нечётным · подгр. 1" in text
    parity = "нечётная" if parity_of(SEMESTER, this_week.TODAY) is Parity.ODD else "чётная"
    assert (
        f"Семестр {SEMESTER.start:%d.%m.%Y}–{SEMESTER.end:%d.%m.%Y}, первая неделя нечётная. Эта неделя {parity}."
        in text
    )
    assert "Было пар в неделю 35, станет 21: новых 14, убрано 28, без изменений 7." in text
    assert stored_week(bot) == SLOTS  # nothing changes before «Применить»

    [done] = press(sandbox, headman, preview, "Применить")
    assert done["text"] == "Готово: расписание ИВТ-101 заменено, пар в неделю 21. Сообщение получил 1 подписчик."
    [digest] = sandbox.wait_for_messages(student, 1)
    assert digest["text"].startswith("🗓 Новое расписание группы ИВТ-101: пар в неделю 21.")
    assert "Добавлены:\n• Пн 16:00–17:30 Теория автоматов" in digest["text"]
    assert "Убраны:\n• Пн 10:45–12:15 Физика" in digest["text"] and "… и ещё 20" in digest["text"]

    [today] = say(sandbox, student, "расписание")  # the same minute: no restart, no wait
    assert "Теория автоматов" in today["text"] and "Общая пара" in today["text"]
    assert "Физика" not in today["text"] and "Нечётная пара" not in today["text"]
    assert len(stored_week(bot)) == 21
    assert [slot.subject for slot in stored_week(bot, "ИВТ-102")] == []  # the other group untouched

    settled(bot, sandbox)
    replanned(bot, present=[job_at(bot, time(15, 45))])  # re-planned after the commit


def test_a_broken_file_is_answered_with_its_lines_and_the_dialog_waits_for_another(
    sandbox: SandboxClient, group: tuple[Bot, int, int]
) -> None:
    bot, headman, _ = group
    broken = week_yaml(['start: "25:00", end: "10:30", subject: Пара'] + ['start: "09:00", end: "10:30"'] * 3)
    document = sandbox.add_file(headman, "broken.yaml", broken)
    sent = sandbox.send(headman, "загрузить расписание", attachments=[document])
    [answer, question] = sandbox.wait_for_messages(headman, 2, since=sent["message_id"])
    assert answer["text"].startswith("В файле ошибки (28), расписание не изменено.")
    assert 'broken.yaml, line 4: groups.ИВТ-101[0].start: "25:00" is not a time (HH:MM)' in answer["text"]
    assert "broken.yaml, line 5: groups.ИВТ-101[1]" in answer["text"]  # a lesson without a subject
    assert "... and 8 more" in answer["text"]  # 20 shown, as `fsm-bot timetable import` shows them
    assert question["text"].startswith("Пришлите расписание группы ИВТ-101 документом")
    assert dialog_of(bot, headman) is not None and dialog_of(bot, headman).state == "file"

    not_a_timetable = sandbox.add_file(headman, "list.txt", b"hello")
    [answer, _] = say_with(sandbox, headman, not_a_timetable, expect=2)
    assert answer["text"] == "«list.txt»: нужен файл .yaml, .yml или .ics."

    fixed = sandbox.add_file(headman, "fixed.yaml", NEW_WEEK)
    answers = say_with(sandbox, headman, fixed, expect=2)
    assert answers[-1]["text"].startswith("📋 Расписание ИВТ-101 из «fixed.yaml»")
    [cancelled] = say(sandbox, headman, "отмена")
    assert cancelled["text"] == "Действие отменено."
    assert stored_week(bot) == SLOTS


def test_a_student_can_neither_start_it_nor_load_a_file(sandbox: SandboxClient, group: tuple[Bot, int, int]) -> None:
    bot, _, student = group
    [refused] = say(sandbox, student, "загрузить расписание")
    assert refused["text"] == "Эта команда доступна только заместителям старост и выше."
    document = sandbox.add_file(student, "мой.yaml", NEW_WEEK)
    [refused] = say_with(sandbox, student, document)
    assert refused["text"] == "Эта команда доступна только заместителям старост и выше."
    settled(bot, sandbox)
    assert stored_week(bot) == SLOTS


def say_with(sandbox: SandboxClient, user: int, attachment: dict, expect: int = 1) -> list[dict]:
    sent = sandbox.send(user, "", attachments=[attachment])
    return sandbox.wait_for_messages(user, expect, since=sent["message_id"])
