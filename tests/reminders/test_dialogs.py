"""The timetable dialogs end to end: real bot, real vk_api over HTTP, the sandbox as VK.

The group has lessons every day of the week in a semester around today, so the views have
something to show whatever day the suite runs on; which lessons a person sees depends on the
week's parity and their subgroup, computed here independently of the bot.
"""

from __future__ import annotations

import json
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.repositories import (
    CommunityRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.timetable import Parity, Slot, parity_of
from tests.support import week as this_week
from tests.support.people import enrol
from tests.support.talk import bot_messages, press, say, toggle
from tests.support.waiting import replanned, settled
from tests.support.week import MOSCOW, SEMESTER, seed

StartBot = Callable[..., Bot]


@pytest.fixture
def stream(sandbox: SandboxClient, database_url: str, start_bot: StartBot):
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    first = sandbox.add_user("Пётр", "Первый")["id"]
    second = sandbox.add_user("Вера", "Вторая")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}})
    enrol(bot, first, 1)
    enrol(bot, second, 2)
    return bot, headman, first, second


def job_at(bot: Bot, clock: time) -> str:
    """The id of the reminder job at the next `clock` (Moscow time)."""
    now = datetime.now(MOSCOW)
    moment = datetime.combine(now.date(), clock, tzinfo=MOSCOW)
    if moment <= now:
        moment += timedelta(days=1)
    return f"reminders:{bot.community_id}:{moment.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%S}"


def expected_parity_subject(day: date) -> str:
    return "Нечётная пара" if parity_of(SEMESTER, day) is Parity.ODD else "Чётная пара"


def labels_of(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def test_a_student_sees_today_tomorrow_and_the_week_for_their_subgroup(sandbox: SandboxClient, stream) -> None:
    bot, _, first, second = stream
    [today] = say(sandbox, first, "расписание")
    parity = "нечётная" if parity_of(SEMESTER, this_week.TODAY) is Parity.ODD else "чётная"
    assert today["text"].splitlines()[
        0
    ] == f"📅 {('Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб', 'Вс')[this_week.TODAY.weekday()]}, " + (
        f"{this_week.TODAY:%d.%m} · {parity} неделя"
    )
    assert "Общая пара" in today["text"] and "Физика" in today["text"] and "Химия" not in today["text"]
    assert expected_parity_subject(this_week.TODAY) in today["text"]
    other = "Чётная пара" if expected_parity_subject(this_week.TODAY) == "Нечётная пара" else "Нечётная пара"
    assert other not in today["text"]
    assert "[подгр." not in today["text"]  # a student is not told whose lesson it is: it is theirs

    # The view buttons change the message they are on: paging leaves one timetable in the conversation.
    tomorrow = toggle(sandbox, first, today, "Завтра")
    tomorrow_day = this_week.TODAY + timedelta(days=1)
    assert f"{tomorrow_day:%d.%m}" in tomorrow["text"].splitlines()[0]
    assert expected_parity_subject(tomorrow_day) in tomorrow["text"]
    assert labels_of(tomorrow)[:3] == ["Сегодня", "Эта неделя", "Следующая неделя"]

    week = toggle(sandbox, first, tomorrow, "Следующая неделя")
    next_monday = this_week.MONDAY + timedelta(weeks=1)
    assert week["text"].startswith(f"🗓 Неделя {next_monday:%d.%m}–{next_monday + timedelta(days=6):%d.%m}")
    assert week["text"].count("Общая пара") == 7
    # The week's title names its parity; its days do not repeat it.
    week_parity = "нечётная" if parity_of(SEMESTER, next_monday) is Parity.ODD else "чётная"
    assert week["text"].splitlines()[0].endswith(f" · {week_parity}")
    assert week["text"].splitlines()[2] == f"📅 Пн, {next_monday:%d.%m}"
    assert "неделя" not in week["text"]
    assert labels_of(week)[:3] == ["Сегодня", "Завтра", "Эта неделя"]
    settled(bot, sandbox)
    assert [m["id"] for m in bot_messages(sandbox, first)] == [today["id"]]
    assert [m["text"] for m in sandbox.messages(first) if m["from"] != "bot"] == ["расписание"]

    [second_view] = say(sandbox, second, "расписание")
    assert "Химия" in second_view["text"] and "Физика" not in second_view["text"]

    enrol(bot, second, None)  # out of her subgroup: she sees both, each marked with whose it is
    [both] = say(sandbox, second, "расписание")
    assert "Физика (практика), ауд. 214 [подгр. 1]" in both["text"] and "[подгр. 2]" in both["text"]


def test_the_headman_sees_every_subgroup_marked(sandbox: SandboxClient, stream) -> None:
    _, headman, _, _ = stream
    [today] = say(sandbox, headman, "расписание завтра")
    assert "Физика (практика), ауд. 214 [подгр. 1]" in today["text"]
    assert "Химия (практика), ауд. 215 [подгр. 2]" in today["text"]
    labels = [button["action"]["label"] for row in today["keyboard"]["buttons"] for button in row]
    assert "✏️ Изменить" in labels and "🔔 Напоминания" in labels


def test_the_calendar_file_arrives_as_a_document_with_the_lessons(sandbox: SandboxClient, stream) -> None:
    _, _, first, _ = stream
    [today] = say(sandbox, first, "расписание")
    [document] = press(sandbox, first, today, "📎 В календарь")
    [attachment] = document["attachments"]
    assert attachment["type"] == "doc"
    assert attachment["doc"]["title"] == "ИВТ-101.ics"
    data = requests.get(attachment["doc"]["url"], timeout=10).content
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "ИВТ-101 / 1"  # subgroup 1's own calendar
    events = [event for event in calendar.walk("VEVENT")]
    summaries = {str(event["SUMMARY"]) for event in events}
    assert "Физика (практика)" in summaries and "Химия (практика)" not in summaries
    first_day = min(event.decoded("DTSTART") for event in events)
    assert first_day.date() == this_week.TODAY and first_day.utcoffset() == timedelta(hours=3)


def test_a_student_subscribes_and_the_reminder_job_is_planned(sandbox: SandboxClient, stream) -> None:
    bot, _, first, _ = stream
    [menu] = say(sandbox, first, "напоминания")
    assert "пока никаких" in menu["text"]
    [question] = press(sandbox, first, menu, "🌙 Сводка на завтра")
    asked = sandbox.send(first, "21:30")
    replies = sandbox.wait_for_messages(first, 2, since=asked["message_id"], timeout=15)
    assert replies[0]["text"] == "Каждый вечер в 21:30 пришлю расписание на завтра."
    assert "каждый вечер в 21:30" in replies[1]["text"]
    assert question
    assert bot.scheduler is not None
    replanned(bot, present=[job_at(bot, time(21, 30))])  # planned after the commit

    [lead_question] = press(sandbox, first, replies[1], "⏰ До первой пары")
    replies = press(sandbox, first, lead_question, "30 мин.", expect=2)
    assert "за 30 мин. до первой пары" in replies[1]["text"]

    subscriptions = bot.database.transaction(
        lambda session: sorted(
            (s.kind, s.at_time, s.lead_minutes) for s in SubscriptionRepository(session, bot.community_id).subscribers()
        )
    )
    assert subscriptions == [
        (SubscriptionKind.BEFORE_FIRST, None, 30),
        (SubscriptionKind.DIGEST, time(21, 30), None),
    ]

    replies = press(sandbox, first, replies[1], "✖ сводка", expect=2)
    assert replies[0]["text"] == "Отписка: сводка."
    assert "каждый вечер" not in replies[1]["text"] and "за 30 мин. до первой пары" in replies[1]["text"]
    [done] = press(sandbox, first, replies[1], "Готово")
    assert done["text"].startswith("Напоминания сохранены")
    assert bot.scheduler is not None
    # 30 minutes before the 09:00 lesson; the digest was unsubscribed: its job is gone
    replanned(bot, present=[job_at(bot, time(8, 30))], absent=[job_at(bot, time(21, 30))])


def test_the_headman_cancels_a_lesson_and_subscribers_are_told_at_once(sandbox: SandboxClient, stream) -> None:
    _, headman, first, second = stream
    for student in (first, second):
        [menu] = say(sandbox, student, "напоминания")
        saved = press(sandbox, student, menu, "📣 Только изменения", expect=2)
        press(sandbox, student, saved[-1], "Готово")

    [day_question] = say(sandbox, headman, "изменить расписание")
    [lesson_question] = press(sandbox, headman, day_question, "Завтра")
    [action_question] = press(sandbox, headman, lesson_question, "10:45 Физика")
    assert "Физика" in action_question["text"]
    [confirm] = press(sandbox, headman, action_question, "Отменить пару")
    assert "пара будет отменена" in confirm["text"]
    done = press(sandbox, headman, confirm, "Подтвердить")
    assert "Сообщение получил 1 подписчик." in done[0]["text"]

    tomorrow = this_week.TODAY + timedelta(days=1)
    notice = sandbox.wait_for_messages(first, 1, lambda m: m["text"].startswith("⚠️"), timeout=15)[0]
    assert notice["text"].startswith(f"⚠️ Изменение в расписании ИВТ-101 на {tomorrow:%d.%m}:")
    assert "❌ 10:45–12:15 Физика" in notice["text"] and "отменено" in notice["text"]
    assert not [m for m in sandbox.messages(second) if m["text"].startswith("⚠️")]  # Физика is subgroup 1's

    [view] = say(sandbox, first, "расписание завтра")
    assert "❌ 10:45–12:15 Физика" in view["text"]


def test_a_long_subject_is_shortened_on_its_button_at_a_word(
    sandbox: SandboxClient, database_url: str, start_bot: StartBot
) -> None:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}})
    subject = "Теория вероятностей и математическая статистика"

    def long_subject(session) -> None:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).find_group(bot.community_id, "ИВТ-101")
        assert group is not None
        slots = [Slot(day, time(10, 45), time(12, 15), subject, "лекция", "", "301") for day in range(7)]
        TimetableRepository(session, bot.community_id).replace_slots(group.id, slots)

    bot.database.transaction(long_subject)
    [day_question] = say(sandbox, headman, "изменить расписание")
    [lesson_question] = press(sandbox, headman, day_question, "Завтра")
    assert labels_of(lesson_question)[0] == "10:45 Теория вероятностей и…"  # whole words, within VK's 40
    [action_question] = press(sandbox, headman, lesson_question, "10:45 Теория вероятностей и…")
    assert subject in action_question["text"]


def test_the_headman_moves_a_lesson_to_another_time(sandbox: SandboxClient, stream) -> None:
    _, headman, first, _ = stream
    [day_question] = say(sandbox, headman, "изменить расписание")
    [lesson_question] = press(sandbox, headman, day_question, "Завтра")
    [action_question] = press(sandbox, headman, lesson_question, "09:00 Общая пара")
    [value_question] = press(sandbox, headman, action_question, "Другое время")
    asked = sandbox.send(headman, "15:00")
    [confirm] = sandbox.wait_for_messages(headman, 1, since=asked["message_id"], timeout=15)
    assert "время 15:00–16:30" in confirm["text"]
    press(sandbox, headman, confirm, "Подтвердить")
    [view] = say(sandbox, first, "расписание завтра")
    assert "🔁 15:00–16:30 Общая пара" in view["text"]
    assert view["text"].index("Физика") < view["text"].index("Общая пара")  # sorted by the new time
    assert value_question


def test_a_room_change_is_told_in_one_phrase(sandbox: SandboxClient, stream) -> None:
    _, headman, first, _ = stream
    [menu] = say(sandbox, first, "напоминания")
    saved = press(sandbox, first, menu, "📣 Только изменения", expect=2)
    press(sandbox, first, saved[-1], "Готово")
    [day_question] = say(sandbox, headman, "изменить расписание")
    [lesson_question] = press(sandbox, headman, day_question, "Завтра")
    [action_question] = press(sandbox, headman, lesson_question, "10:45 Физика")
    [value_question] = press(sandbox, headman, action_question, "Другая аудитория")
    asked = sandbox.send(headman, "207")
    [confirm] = sandbox.wait_for_messages(headman, 1, since=asked["message_id"], timeout=15)
    press(sandbox, headman, confirm, "Подтвердить")
    notice = sandbox.wait_for_messages(first, 1, lambda m: m["text"].startswith("⚠️"), timeout=15)[0]
    assert notice["text"].splitlines()[1] == (
        "🔁 10:45–12:15 Физика (практика), ауд. 207 [подгр. 1] — перенесено из ауд. 214"
    )
    assert value_question


def test_a_student_cannot_change_the_timetable(sandbox: SandboxClient, stream) -> None:
    _, _, first, _ = stream
    [refusal] = say(sandbox, first, "изменить расписание")
    assert "только заместителям старост и выше" in refusal["text"]


def test_a_forged_lesson_payload_changes_nothing(sandbox: SandboxClient, stream) -> None:
    bot, headman, _, _ = stream
    [day_question] = say(sandbox, headman, "изменить расписание")
    [lesson_question] = press(sandbox, headman, day_question, "Завтра")
    payload = lesson_question["keyboard"]["buttons"][0][0]["action"]["payload"]
    forged = json.loads(payload) if isinstance(payload, str) else dict(payload)
    forged["b"] = ["lesson", 999999, "0900"]
    sent = sandbox.send(headman, "09:00 Чужая пара", payload=forged)
    [answer] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"], timeout=15)
    assert answer["text"] == "Выберите пару кнопкой."
    assert (
        bot.database.transaction(
            lambda session: TimetableRepository(session, bot.community_id).changes(
                1, this_week.TODAY, this_week.TODAY + timedelta(days=30)
            )
        )
        == []
    )


def test_a_scheduled_command_missed_while_down_runs_once_at_start(
    sandbox: SandboxClient,
    database_url: str,
    start_bot: StartBot,
) -> None:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    chat = sandbox.create_chat("ИВТ-101", [headman])
    now = datetime.now(MOSCOW)
    due = (now - timedelta(minutes=2)).strftime("%H:%M")  # two minutes ago: the bot was not running
    settings = {
        "stream": {"groups": {"ИВТ-101": {"headman": headman, "chat_peer_id": chat}}},
        "schedule": [
            {
                "command": "расписание сегодня",
                "to": "ИВТ-101",
                "times": [due],
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            }
        ],
    }
    bot = start_bot(**settings)

    def timetables() -> list[dict]:
        return [m for m in sandbox.chat_messages(chat) if m["text"].startswith("📅")]

    deadline = datetime.now().timestamp() + 15
    while not timetables() and datetime.now().timestamp() < deadline:
        clock.sleep(0.05)
    [posted] = timetables()
    # The group's headman runs it, so the chat sees the whole group's day, subgroups marked.
    assert "[подгр. 1]" in posted["text"] and "[подгр. 2]" in posted["text"]
    assert posted["text"].startswith(f"📅 {('Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб', 'Вс')[now.weekday()]}, {now:%d.%m}")
    assert bot.scheduler is not None
    assert len(bot.scheduler.job_ids(f"command:{bot.community_id}:")) == 1

    bot.stop()
    again = start_bot(**settings)
    assert again.timekeeper is not None and again.timekeeper.run_due_commands() == 1  # due, but already run
    clock.sleep(1.5)  # time for a second copy to arrive, if one were coming
    assert len(timetables()) == 1
