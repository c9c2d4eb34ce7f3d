"""A broadcast to 2,000 people survives `kill -9` of the bot mid-delivery: each copy arrives once."""

from __future__ import annotations

from collections import Counter

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import MemberRepository
from tests.support.bots import BotProcess, StartBot
from tests.support.broadcasts import confirm_group_broadcast, report_of, seed_headman_and_students
from tests.support.people import enrolled
from tests.support.talk import press, say
from tests.support.waiting import settled, store_of, wait_until

RECIPIENTS = 2000
PARTS = ["Первая часть: сессия начинается 10 января.", "Вторая часть: расписание экзаменов.", "Третья часть: допуски."]


def test_kill_9_during_a_2000_recipient_delivery_sends_every_copy_once(
    sandbox: SandboxClient,
    bot_process: BotProcess,
    database_url: str,
) -> None:
    headman = sandbox.add_user("Анна", "Старостина")["id"]
    students = [sandbox.add_user(f"Имя{n}", f"Студент{n:04d}")["id"] for n in range(RECIPIENTS)]
    seed_headman_and_students(database_url, sandbox.group_id, headman, students)
    bot_process.start()
    confirm = confirm_group_broadcast(sandbox, headman, PARTS)
    sandbox.inject_fault("execute", 10, count=2)  # the first tries fail: the delivery is under way, not done
    sandbox.press(headman, confirm["id"], "Отправить")
    wait_until(lambda: sandbox.stats()["delivered"] >= RECIPIENTS + 12, timeout=60, what="the first part out")
    bot_process.kill()
    delivered_at_kill = sandbox.stats()["delivered"]
    bot_process.start()
    wait_until(lambda: sandbox.stats()["delivered"] >= 3 * RECIPIENTS + 12, timeout=120, what="every part to everyone")
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)  # every copy final and nothing unsent: anything sent twice is in the log now
    copies = Counter((entry["peer_id"], entry["text"]) for entry in sandbox.log() if entry["peer_id"] in set(students))
    assert len(copies) == 3 * RECIPIENTS
    assert set(copies.values()) == {1}, [key for key, count in copies.items() if count > 1][:5]
    assert delivered_at_kill < 3 * RECIPIENTS + 12, "the bot was killed after the delivery had finished"
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], timeout=30, what="report")
    assert f"Доставлено: {RECIPIENTS}" in report_of(sandbox, headman)["text"]


def test_a_recipient_who_leaves_mid_send_loses_nothing(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    students = [enrolled(sandbox, bot, f"Имя{n}", f"Студент{n}") for n in range(3)]
    say(sandbox, headman, "рассылка")
    for part in PARTS:
        added = say(sandbox, headman, part)[-1]
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    confirm = press(sandbox, headman, options, "Далее", expect=5)[-1]
    sandbox.inject_fault("execute", 10, count=3)  # slows the delivery down by a few retries
    sandbox.press(headman, confirm["id"], "Отправить")
    # Once the broadcast exists (its report is out), one recipient leaves while the parts go out.
    sandbox.wait_for_messages(headman, 1, predicate=lambda m: m["text"].startswith("📣 Рассылка №"), timeout=20)
    sandbox.update_user(students[1], member=False)
    for student in students:
        sandbox.wait_for_messages(student, 3, timeout=30)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], timeout=30, what="report")
    assert "Доставлено: 3" in report_of(sandbox, headman)["text"]
    member = bot.database.transaction(lambda session: MemberRepository(session, bot.community_id).get(students[1]))
    assert member is not None and not member.is_member
