"""Crashes lose nothing: the real `fsm-bot run` process, killed with SIGKILL and started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import LongPollCursor
from tests.engine.conftest import TEST_FLOWS

ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`fsm-bot run` in a child process, with its log in a file the test can read."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "fsm_bot.cli", "run", "--config", str(self.config)]

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("FSM_BOT_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        runs = self.log.read_text(encoding="utf-8").count("is running")
        deadline = time.monotonic() + 30
        while self.log.read_text(encoding="utf-8").count("is running") == runs:
            assert self.process.poll() is None, self.log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the bot did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


@pytest.fixture
def bot_process(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[BotProcess]:
    community = sandbox.community()
    settings = {
        "vk": {"token": community["tokens"][0], "group_id": community["group_id"], "api_url": community["api_url"]},
        "database": {"url": database_url},
        "flows": TEST_FLOWS,
        "stream": {"auto_approve": True},
        "engine": {"dialog_timeout_seconds": 6, "sweep_seconds": 1},
    }
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    process = BotProcess(config, tmp_path / "bot.log")
    yield process
    if process.process is not None and process.process.poll() is None:
        process.kill()


def bot_texts(sandbox: SandboxClient, user: int) -> list[str]:
    return [message["text"] for message in sandbox.messages(user) if message["from"] == "bot"]


def onboard(sandbox: SandboxClient, user: int) -> None:
    """Through the real onboarding dialog (auto-approved) so the person may use the survey."""
    sandbox.send(user, "регистрация")
    [question] = sandbox.wait_for_messages(user, 1, timeout=20)
    sandbox.press(user, question["id"], "ИВТ-101")
    confirm = sandbox.wait_for_messages(user, 2, timeout=20)[-1]
    sandbox.press(user, confirm["id"], "Да, верно")
    sandbox.wait_for_messages(user, 3, timeout=20)


def seed_group(database_url: str, community_id: int) -> None:
    from fsm_bot.storage.migrate import upgrade_to_head
    from fsm_bot.storage.repositories import CommunityRepository

    database = Database(database_url)
    upgrade_to_head(database.engine)

    def seed(session) -> None:  # type: ignore[no-untyped-def]
        CommunityRepository(session).ensure(community_id)
        CommunityRepository(session).study_group(community_id, "ИВТ-101")

    database.transaction(seed)
    database.dispose()


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
    time.sleep(1.0)  # anything doubled would have arrived by now
    for person in people:
        assert bot_texts(sandbox, person).count("Как вас зовут?") == 1, bot_texts(sandbox, person)


def test_a_dialog_timeout_fires_after_a_restart(
    sandbox: SandboxClient, bot_process: BotProcess, database_url: str
) -> None:
    anna = running_with_anna(sandbox, bot_process, database_url)
    sandbox.send(anna, "опрос")
    sandbox.wait_for_messages(anna, 4, timeout=20)
    bot_process.kill()
    time.sleep(7)  # the 6-second deadline passes while the bot is down
    bot_process.start()
    [timed_out] = sandbox.wait_for_messages(anna, 5, timeout=20)[-1:]
    assert timed_out["text"].startswith("Время на ответ истекло")
    time.sleep(2.5)  # two more sweeps: the timeout is told once
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
    time.sleep(1.0)
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
    time.sleep(4)  # due while the bot is down
    bot_process.start()
    sandbox.wait_for_messages(anna, 5, timeout=20)
    time.sleep(2.5)
    assert bot_texts(sandbox, anna).count("Напоминание: пара через 15 минут") == 1
