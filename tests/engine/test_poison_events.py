"""One bad input never stalls anyone (issue 15): an event that fails for a reason of its own is
answered and set aside; only an outage is waited out, and never for ever while the database answers.

Before: every DBAPIError counted as "database unavailable", so a value too long for its column or a
payload id out of range (DataError on PostgreSQL) was retried for ever inside a worker; eight such
people held all eight workers and nobody was answered, after a restart too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from sqlalchemy import select

from fsm_bot.engine.inbox import Inbox
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import ProcessedEvent, Role
from fsm_bot.vk.events import parse_update
from tests.support.people import enrolled, member
from tests.support.talk import press, say
from tests.support.vk import MESSAGE_NEW as ENVELOPE

StartBot = Callable[..., Bot]
APOLOGY = "Что-то пошло не так, попробуйте ещё раз. Код ошибки: "


def inbox_error(bot: Bot, user: int) -> str | None:
    """The error the user's last set-aside event was marked with."""
    return bot.database.transaction(
        lambda session: session.scalars(
            select(ProcessedEvent.error)
            .where(ProcessedEvent.user_id == user, ProcessedEvent.error.is_not(None))
            .order_by(ProcessedEvent.id.desc())
        ).first()
    )


def test_an_event_the_database_refuses_is_answered_once_and_set_aside(
    sandbox: SandboxClient, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = start_bot()
    anna = enrolled(sandbox, bot)
    [apology] = say(sandbox, anna, "испорти")
    assert apology["text"].startswith(APOLOGY)
    error_id = apology["text"].rsplit(" ", 1)[-1]
    assert inbox_error(bot, anna) == f"IntegrityError (error id {error_id})"
    failures = [r for r in caplog.records if "failed" in r.getMessage() and error_id in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None  # logged once, with its traceback
    assert not any("database unavailable" in r.getMessage() for r in caplog.records)
    assert say(sandbox, anna, "опрос")[-1]["text"] == "Как вас зовут?"


def test_an_error_that_looks_like_an_outage_is_set_aside_after_five_tries_while_others_are_answered(
    sandbox: SandboxClient, start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = start_bot(engine={"workers": 1})
    anna = enrolled(sandbox, bot)
    boris = enrolled(sandbox, bot, "Борис", "Петров")
    sandbox.send(anna, "зависни")
    # One worker: Boris is answered between the tries of Anna's event (which waits without a worker),
    # not after all of them.
    assert say(sandbox, boris, "опрос")[-1]["text"] == "Как вас зовут?"
    assert [m for m in sandbox.messages(anna) if m["from"] == "bot"] == []
    [apology] = sandbox.wait_for_messages(anna, 1, timeout=60)
    assert apology["text"].startswith(APOLOGY)
    assert (inbox_error(bot, anna) or "").startswith("OperationalError (error id ")
    assert any("after 5 attempts" in r.getMessage() for r in caplog.records)
    assert say(sandbox, anna, "опрос")[-1]["text"] == "Как вас зовут?"


def newcomer_at_fix_name(sandbox: SandboxClient, bot: Bot) -> int:
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)  # makes the group ИВТ-101 exist
    newcomer = sandbox.add_user("Sasha", "Ivanov")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    [ask] = press(sandbox, newcomer, confirm, "Исправить")
    assert ask["text"].startswith("Напишите фамилию и имя")
    return newcomer


def test_a_name_too_long_for_the_register_is_asked_again_not_stored(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot(stream={"auto_approve": True})
    newcomer = newcomer_at_fix_name(sandbox, bot)
    [again] = say(sandbox, newcomer, "Иванов " + "Александр" * 22)  # 199 characters as the first name
    assert again["text"].startswith("Нужны фамилия и имя через пробел, буквами, до 100 знаков")
    [confirm] = say(sandbox, newcomer, "Иванов Александр")
    assert "«Иванов Александр»" in confirm["text"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("белова-петрова ксения", ("Белова-Петрова", "Ксения")),
        ("\u200bИванов\u200b  \u202eПётр\u202c", ("Иванов", "Пётр")),  # zero-width spaces, a bidi override
        ("МакДональд ДЖОН", ("МакДональд", "Джон")),
    ],
)
def test_names_are_stored_as_the_register_shows_them(
    sandbox: SandboxClient, start_bot: StartBot, typed: str, stored: tuple[str, str]
) -> None:
    bot = start_bot(stream={"auto_approve": True})
    newcomer = newcomer_at_fix_name(sandbox, bot)
    [confirm] = say(sandbox, newcomer, typed)
    assert f"«{stored[0]} {stored[1]}»" in confirm["text"]
    press(sandbox, newcomer, confirm, "Да, верно")
    row = member(bot, newcomer)
    assert row is not None and (row.last_name, row.first_name) == stored


@pytest.mark.parametrize("typed", ["\u200b\u200c \u2066\u2069", "Иванов 12345", "Иванов ²"])
def test_invisible_or_non_letter_names_are_refused(sandbox: SandboxClient, start_bot: StartBot, typed: str) -> None:
    bot = start_bot(stream={"auto_approve": True})
    newcomer = newcomer_at_fix_name(sandbox, bot)
    [again] = say(sandbox, newcomer, typed)
    assert again["text"].startswith("Нужны фамилия и имя")


def test_a_pending_newcomer_sends_the_headman_one_request(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot(stream={"auto_approve": False})
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    press(sandbox, newcomer, confirm, "Да, верно")
    sandbox.wait_for_messages(headman, 1, predicate=lambda m: "Заявка в группу ИВТ-101" in m["text"])
    for _ in range(3):
        [answer] = say(sandbox, newcomer, "регистрация")
        assert answer["text"] == "Ваша заявка в группу ИВТ-101 уже у старосты. Я напишу, как только староста ответит."
    requests = [m for m in sandbox.messages(headman) if "Заявка в группу" in m["text"]]
    assert len(requests) == 1


def test_a_group_name_too_long_for_a_button_is_typed(sandbox: SandboxClient, start_bot: StartBot) -> None:
    """Settings and imports now refuse names over the column's 64 characters; SQLite kept longer ones
    from before, and their payload broke VK's 255-character limit, so onboarding failed for everyone."""
    bot = start_bot(stream={"auto_approve": True})
    if bot.database.backend != "sqlite":
        pytest.skip("PostgreSQL's column never held a name this long")
    long_name = "Группа " + "с очень длинным названием " * 9

    def add_group(session) -> None:  # type: ignore[no-untyped-def]
        from fsm_bot.storage.repositories import CommunityRepository

        CommunityRepository(session).study_group(bot.community_id, long_name)

    bot.database.transaction(add_group)
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    assert question["text"].startswith("Здравствуйте! Я бот вашего потока. Напишите название вашей группы")
    [confirm] = say(sandbox, newcomer, long_name.strip())
    assert confirm["text"].startswith(f"Группа {long_name.strip()}.")


FORGED_VALUES = ["99999999999", "-1", "²", "٣", "1e3", "", "0", "1" * 40]


@pytest.mark.parametrize("command", ["ack", "membership", "unread", "resend", "notice_decision"])
def test_forged_payload_values_get_an_ordinary_answer(
    sandbox: SandboxClient, start_bot: StartBot, command: str
) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    since = sandbox.messages(headman)[-1]["id"] if sandbox.messages(headman) else None
    for value in FORGED_VALUES:
        forged = {"ack": value, "membership": f"{value}:yes", "notice_decision": f"a:{value}"}.get(command, value)
        sandbox.send(headman, "кнопка", payload={"c": command, "b": forged})
    sandbox.send(headman, "опрос")  # answered after the forged presses: one person's events go in order
    sandbox.wait_for_messages(headman, 1, since=since, predicate=lambda m: m["text"] == "Как вас зовут?", timeout=30)
    answers = [m["text"] for m in sandbox.messages(headman, since=since) if m["from"] == "bot"]
    assert answers[-1] == "Как вас зовут?"
    assert not any(text.startswith(APOLOGY) for text in answers)
    errors = bot.database.transaction(
        lambda session: session.scalars(select(ProcessedEvent.error).where(ProcessedEvent.error.is_not(None))).all()
    )
    assert errors == []


def test_an_event_the_database_cannot_store_as_sent_is_stored_repaired_and_the_batch_goes_on(
    database: Database,
) -> None:
    """JSON may escape half of a UTF-16 pair alone ("\\ud800"); PostgreSQL's jsonb refuses such text, so
    the whole Long Poll batch failed at every offer and nobody after it was answered."""
    inbox = Inbox(database, 42)
    poisoned = parse_update({**copy.deepcopy(ENVELOPE), "group_id": 42, "event_id": "poisoned"})
    poisoned.raw["object"]["message"]["text"] = "\ud800 опрос"
    fine_envelope = copy.deepcopy(ENVELOPE)
    fine_envelope["object"]["message"]["id"] += 1  # another message: the inbox keeps one row per VK message
    fine = parse_update({**fine_envelope, "group_id": 42, "event_id": "fine"})
    inbox.accept([poisoned, fine], cursor="17")
    stored = database.transaction(
        lambda session: {
            row.event_id: row.payload["object"]["message"]["text"] for row in session.scalars(select(ProcessedEvent))
        }
    )
    assert stored["poisoned"] == "\ufffd опрос" if database.backend == "postgresql" else "\ud800 опрос"
    assert stored["fine"] == ENVELOPE["object"]["message"]["text"]
    assert inbox.resume_cursor() == "17"
