"""Crashes lose nothing: the real `fsm-bot run` process, killed with SIGKILL and started again."""

from __future__ import annotations

import threading
import time

from sqlalchemy import update

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import LongPollCursor
from tests.support.bots import BotProcess
from tests.support.people import seed_group
from tests.support.talk import bot_texts, onboard
from tests.support.waiting import settled, store_of


def running_with_anna(sandbox: SandboxClient, bot_process: BotProcess, database_url: str) -> int:
    """The bot started on a database with the group ИВТ-101, and Anna onboarded into it."""
    seed_group(database_url, sandbox.group_id)
    bot_process.start()
    anna = sandbox.add_user("Анна", "Смирнова")["id"]
    onboard(sandbox, anna)
    return anna


def test_a_dialog_continues_after_kill_9_and_restart(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    anna = running_with_anna(sandbox, bot_process, database_url)
    sandbox.send(anna, "опрос")
    sandbox.wait_for_messages(anna, 4, timeout=20)
    sandbox.send(anna, "Анна")
    sandbox.wait_for_messages(anna, 5, timeout=20)
    bot_process.kill()
    sandbox.send(anna, "20")  # written while the bot is down
    bot_process.start()
    sandbox.wait_for_messages(anna, 6, timeout=30)
    assert bot_texts(sandbox, anna)[-3:] == ["Как вас зовут?", "Сколько вам лет?", "Анна, 20. Верно?"]


def test_kill_9_while_busy_loses_no_event_and_doubles_no_reply(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    seed_group(database_url, sandbox.group_id)
    bot_process.start()
    people = [sandbox.add_user(f"Имя{i}", f"Фамилия{i}")["id"] for i in range(40)]
    for person in people:
        onboard(sandbox, person)
    senders = [threading.Thread(target=sandbox.send, args=(person, "опрос")) for person in people]
    for thread in senders:
        thread.start()
    time.sleep(0.3)  # some handled, some queued, some replies in flight
    bot_process.kill()
    for thread in senders:
        thread.join()
    bot_process.start()
    for person in people:
        sandbox.wait_for_messages(person, 4, timeout=60)
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)  # every event handled and every reply sent: a doubled one would be here
    for person in people:
        assert bot_texts(sandbox, person).count("Как вас зовут?") == 1, bot_texts(sandbox, person)


def test_a_dialog_timeout_fires_after_a_restart(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    anna = running_with_anna(sandbox, bot_process, database_url)
    sandbox.send(anna, "опрос")
    sandbox.wait_for_messages(anna, 4, timeout=20)
    bot_process.kill()
    time.sleep(7)  # the behaviour under test: the 6-second deadline passes in real time while the bot is down
    bot_process.start()
    [timed_out] = sandbox.wait_for_messages(anna, 5, timeout=20)[-1:]
    assert timed_out["text"].startswith("Время на ответ истекло")
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)  # no timeout left due and nothing unsent: a second notice would be here
    assert [text.startswith("Время на ответ истекло") for text in bot_texts(sandbox, anna)].count(True) == 1


def test_events_replayed_by_vk_after_a_restart_are_not_handled_twice(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    seed_group(database_url, sandbox.group_id)
    bot_process.start()
    anna = sandbox.add_user("Анна", "Смирнова")["id"]
    start_cursor = _cursor(database_url)
    onboard(sandbox, anna)
    sandbox.send(anna, "помощь")
    sandbox.wait_for_messages(anna, 4, timeout=20)
    assert bot_process.terminate() == 0
    # Rewind the stored Long Poll cursor: VK hands every event since then to the bot again.
    database = Database(database_url)
    database.transaction(lambda session: session.execute(update(LongPollCursor).values(ts=start_cursor)))
    database.dispose()
    bot_process.start()
    sandbox.send(anna, "опрос")
    sandbox.wait_for_messages(anna, 5, timeout=20)
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)  # the replayed events are handled (or skipped) and every reply is out
    texts = bot_texts(sandbox, anna)
    assert len(texts) == 5, texts
    assert texts[-1] == "Как вас зовут?"
    assert "resuming from ts" in bot_process.log.read_text(encoding="utf-8")


def test_sigterm_finishes_and_exits_cleanly(sandbox: SandboxClient, bot_process: BotProcess, database_url: str) -> None:
    seed_group(database_url, sandbox.group_id)
    bot_process.start()
    assert bot_process.terminate() == 0
    assert "bot stopped" in bot_process.log.read_text(encoding="utf-8")


def _cursor(database_url: str) -> str:
    database = Database(database_url)
    ts = database.transaction(lambda session: session.get(LongPollCursor, 227000001).ts)  # type: ignore[union-attr]
    database.dispose()
    return ts


def test_a_scheduled_message_survives_kill_9(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    anna = running_with_anna(sandbox, bot_process, database_url)
    sandbox.send(anna, "напомни")
    sandbox.wait_for_messages(anna, 4, timeout=20)
    bot_process.kill()
    time.sleep(4)  # the behaviour under test: the message falls due in real time while the bot is down
    bot_process.start()
    sandbox.wait_for_messages(anna, 5, timeout=20)
    with store_of(database_url, sandbox.group_id) as bot:
        settled(bot, sandbox)  # nothing scheduled is still due and nothing unsent: a second copy would be here
    assert bot_texts(sandbox, anna).count("Напоминание: пара через 15 минут") == 1
