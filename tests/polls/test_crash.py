"""kill -9 while a group is answering a poll: after the restart every answer is counted exactly once.

The poll is multiple-choice, so a press handled twice would take its answer back and show here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.poll_models import PollVote
from tests.support.bots import BotProcess, group_process
from tests.support.broadcasts import seed_headman_and_students
from tests.support.polls import make_poll, report_reading
from tests.support.talk import press
from tests.support.waiting import settled, store_of, wait_for

STUDENTS = 24
ANSWERS = ["Понедельник", "Среда", "Пятница"]
QUESTION = "В какой день консультация?"


@pytest.fixture
def polling(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[tuple[BotProcess, int, list[int]]]:
    headman = sandbox.add_user("Анна", "Старостина")["id"]
    students = [sandbox.add_user(f"Имя{n}", f"Студент{n:04d}")["id"] for n in range(STUDENTS)]
    seed_headman_and_students(database_url, sandbox.group_id, headman, students)
    with group_process(sandbox, database_url, tmp_path, headman, engine={"sweep_seconds": 1}) as process:
        yield process, headman, students


def test_answers_pressed_around_a_kill_9_are_each_counted_once(
    sandbox: SandboxClient, database_url: str, polling: tuple[BotProcess, int, list[int]]
) -> None:
    bot, headman, students = polling
    bot.start()
    confirm = make_poll(sandbox, headman, QUESTION, ANSWERS, multiple=True)
    press(sandbox, headman, confirm, "Отправить", expect=2)
    copies = [sandbox.wait_for_messages(student, 1, timeout=30)[-1] for student in students]
    chosen = {student: ANSWERS[n % 3] for n, student in enumerate(students)}

    half = STUDENTS // 2
    for student, copy in zip(students[:half], copies[:half], strict=True):
        sandbox.press(student, copy["id"], chosen[student])  # not waited for: some are in flight at the kill
    bot.kill()
    for student, copy in zip(students[half:], copies[half:], strict=True):
        sandbox.press(student, copy["id"], chosen[student])  # while the bot is down
    bot.start()

    with store_of(database_url, sandbox.group_id) as store:

        def votes() -> list[tuple[int, int]]:
            return store.database.transaction(
                lambda session: [tuple(row) for row in session.execute(select(PollVote.vk_id, PollVote.option))]
            )

        wait_for(votes, lambda found: len(found) >= STUDENTS, "every answer", timeout=60)
        settled(store, sandbox)
        assert sorted(votes()) == sorted((student, ANSWERS.index(label)) for student, label in chosen.items())
    names = {student: f"Студент{n:04d} Имя{n}" for n, student in enumerate(students)}
    lines = [
        f"{number}. {answer} — {STUDENTS // 3}: "
        + ", ".join(sorted(names[student] for student, label in chosen.items() if label == answer))
        for number, answer in enumerate(ANSWERS, start=1)
    ]
    report_reading(
        sandbox,
        headman,
        f"📣 Рассылка №1 (ИВТ-101): «{QUESTION}»\nЗапланировано: {STUDENTS}\nДоставлено: {STUDENTS}\n"
        "📊 Опрос: можно несколько вариантов, именной\n"
        + "\n".join(lines)
        + f"\nОтветили: {STUDENTS} из {STUDENTS}\nДоставка завершена.",
    )
