"""Reminders before a due time: at the lead each student chose, once, not for one marked done, not again
after a restart; and the evening digest's line about what is due tomorrow.

The reminder job is driven as tests/reminders drive it: the timekeeper is asked to fire at a given moment,
not waited for. What fired is recorded in `fired_reminder`, which a restarted bot reads as the first did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.scheduler.reminders import reminder_job_id
from fsm_bot.storage.repositories import MemberRepository, SubscriptionRepository
from fsm_bot.storage.timetable_models import SubscriptionKind
from tests.homework.conftest import Groups
from tests.homework.steps import WEEKDAYS, give, in_days, labels, send, told
from tests.support.talk import bot_texts, press, say
from tests.support.waiting import replanned, settled

StartBot = Callable[..., Bot]


def choose(sandbox: SandboxClient, student: int, *leads: str) -> None:
    """Through «напоминания о заданиях»: switch on each lead, then «Готово»."""
    [menu] = say(sandbox, student, "напоминания о заданиях")
    assert menu["text"] == "Напоминаний о сроках пока нет. Когда напомнить о несделанном задании?"
    assert labels(menu) == ["▫️ за день", "▫️ за 3 часа", "▫️ за час", "Готово", "Назад", "Отмена"]
    for lead in leads:
        turned, menu = press(sandbox, student, menu, f"▫️ {lead}", expect=2)
        assert turned["text"] == f"Включено: {lead} до срока."
    [bye] = press(sandbox, student, menu, "Готово")
    assert bye["text"].startswith("Напоминания о сроках сохранены.")


def reminders(sandbox: SandboxClient, student: int) -> list[str]:
    return [text for text in bot_texts(sandbox, student) if text.startswith("🔔 Напоминание")]


def fire(bot: Bot, at: datetime) -> int:
    assert bot.timekeeper is not None
    return bot.timekeeper.fire_reminders(now=at.astimezone(UTC)).homework


def test_a_reminder_fires_once_at_its_lead_not_for_a_done_one_and_not_again_after_a_restart(
    sandbox: SandboxClient, groups: Groups, start_bot: StartBot
) -> None:
    bot = groups.bot
    due = in_days(2)  # 18:00 the day after tomorrow
    _, question = give(sandbox, groups.headman, "Физика", "Задачи 1–5", f"{due:%d.%m} 18:00")
    send(sandbox, groups.headman, question)
    [notice] = told(sandbox, groups.first, "📚 Новое задание")
    choose(sandbox, groups.first, "за день")
    choose(sandbox, groups.second, "за день", "за 3 часа")
    [menu] = say(sandbox, groups.second, "напоминания о заданиях")
    assert menu["text"].startswith("Напомню о несделанных заданиях за день, за 3 часа до срока.")
    assert labels(menu)[:3] == ["✅ за день", "✅ за 3 часа", "▫️ за час"]
    press(sandbox, groups.second, menu, "Готово")
    # Homework reminders are not the timetable's: the reminders menu does not list them.
    [timetable_menu] = say(sandbox, groups.second, "напоминания")
    assert "пока никаких" in timetable_menu["text"]
    press(sandbox, groups.second, timetable_menu, "Готово")
    press(sandbox, groups.first, notice, "✅ Сделано")  # Пётр is done: no reminder for him

    a_day_before = due - timedelta(days=1)
    assert fire(bot, a_day_before - timedelta(minutes=1)) == 0  # not yet
    assert fire(bot, a_day_before + timedelta(seconds=30)) == 1
    assert fire(bot, a_day_before + timedelta(minutes=2)) == 0  # fired already
    text = f"🔔 Напоминание (за день): Физика · срок: {WEEKDAYS[due.weekday()]} {due:%d.%m} 18:00\nЗадачи 1–5"
    [reminder] = told(sandbox, groups.second, "🔔 Напоминание")
    assert reminder["text"] == text

    bot.stop()
    again = start_bot(**groups.settings)
    assert fire(again, a_day_before + timedelta(minutes=3)) == 0  # the restarted bot reads what fired
    assert fire(again, due - timedelta(hours=3)) == 1  # Вера's second lead
    assert fire(again, due - timedelta(hours=3)) == 0
    settled(again, sandbox)
    assert reminders(sandbox, groups.second) == [text, text.replace("за день", "за 3 часа")]
    assert reminders(sandbox, groups.first) == []


def test_reminder_jobs_are_planned_for_the_lead_times(sandbox: SandboxClient, groups: Groups) -> None:
    bot = groups.bot
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=5)  # within the day the planner looks ahead
    local = due.astimezone(in_days(0).tzinfo)
    _, question = give(sandbox, groups.headman, "Химия", "Лабораторная 2", f"{local:%d.%m %H:%M}")
    send(sandbox, groups.headman, question)
    choose(sandbox, groups.second, "за 3 часа")
    assert bot.scheduler is not None
    moment = local.replace(second=0) - timedelta(hours=3)
    replanned(bot, present=[reminder_job_id(bot.community_id, moment)])


def test_the_evening_digest_says_what_is_due_tomorrow_to_whoever_has_not_done_it(
    sandbox: SandboxClient, groups: Groups
) -> None:
    bot = groups.bot
    due = in_days(2, time(10, 45))
    _, question = give(sandbox, groups.headman, "Физика", "Задачи 1–5", f"{due:%d.%m} 10:45")
    send(sandbox, groups.headman, question)
    [notice] = told(sandbox, groups.first, "📚 Новое задание")
    press(sandbox, groups.first, notice, "✅ Сделано")

    def digests(session) -> None:  # type: ignore[no-untyped-def]
        members = MemberRepository(session, bot.community_id)
        subscriptions = SubscriptionRepository(session, bot.community_id)
        for student in (groups.first, groups.second, groups.other):
            member = members.get(student)
            assert member is not None
            subscriptions.put(member.id, SubscriptionKind.DIGEST, time(20, 0))

    bot.database.transaction(digests)
    evening = datetime.combine(due.date() - timedelta(days=1), time(20, 0), due.tzinfo) + timedelta(seconds=30)
    assert bot.timekeeper is not None
    report = bot.timekeeper.fire_reminders(now=evening.astimezone(UTC))
    by_peer = {peer: text for text, peers in report.peers_by_text.items() for peer in peers}
    assert by_peer[groups.second].startswith("Расписание на завтра:")
    assert by_peer[groups.second].endswith("\n\n📚 Завтра срок сдачи: Физика")
    assert "📚" not in by_peer[groups.first]  # he marked it done
    assert groups.other not in by_peer  # ИВТ-102 has no timetable, so no digest, and none of ИВТ-101's homework
