"""Every button of every role's main menu answers that role with what it asked for, never a refusal.

Issue 20, point 3b: the stream admin's menu held six buttons that only refused her, one of them sending
her to «регистрация», which answered that she needed none. A menu shows what its owner can use: so each
role (headman, deputy, student, stream admin, a newcomer waiting for approval, a stranger, and the
headman and a student of a group with no timetable yet) opens the menu, presses every button in it, and
none may answer «only for …», «your request waits», «I don't understand», a need the member lacks (a
study group, a timetable) or «напишите «регистрация»». «отмена» between presses. In a group chat the
keyboard one person asked for is everyone's there: each of the group presses every button of it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from fsm_bot.config import DEFAULT_FLOWS
from fsm_bot.engine.flow import Need
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.storage.models import Role
from fsm_bot.texts import Texts
from tests.support.people import enrolled
from tests.support.person import APOLOGY_START, Person, buttons_of
from tests.support.waiting import HANG_GUARD
from tests.support.walk import Stream

FORBIDDEN_START = "Эта команда доступна только"  # errors.forbidden in fsm_bot/locales/ru.yaml
PENDING_START = "Ваша заявка в группу"  # errors.pending_approval
UNKNOWN = "Не понимаю. Напишите «помощь», чтобы увидеть команды, или нажмите кнопку меню."  # errors.unknown_command
TO_REGISTER = "напишите «регистрация»"  # a refusal that sends the person to onboarding (timetable.no_group)


def need_refusals(texts: Texts) -> set[str]:
    """What every flow's `needs` say when the member lacks the need (a study group, a loaded timetable)."""
    keys = {guard.refusal for flow in FlowRegistry.from_names(DEFAULT_FLOWS) for guard in flow.needs
            if isinstance(guard, Need)}  # fmt: skip
    return {texts(key) for key in keys}


def menu_labels(person: Person) -> list[str]:
    """The buttons of the main menu (the regular keyboard) the person's latest such message carries."""
    for message in reversed(person.conversation()):
        keyboard = message.get("keyboard") or {}
        if message["from"] == "bot" and keyboard and not keyboard.get("inline"):
            return [button["action"]["label"] for button in buttons_of(message)]
    return []


def pending_newcomer(stream: Stream) -> Person:
    """Someone who asked to join ИВТ-101 and waits for the headman's answer."""
    person = stream.newcomer("Ожидающая", "Одобрения")
    person.say("регистрация").assert_ordinary()
    person.press("ИВТ-101").assert_ordinary()
    person.press("Да, верно").assert_ordinary()
    return person


def refusals_in(texts: list[str], refused: set[str]) -> list[str]:
    return [
        text for text in texts
        if text.startswith((FORBIDDEN_START, PENDING_START)) or text == UNKNOWN or text in refused
        or TO_REGISTER in text.lower()
    ]  # fmt: skip


def in_a_group_without_a_timetable(stream: Stream, role: Role) -> Person:
    """A member of ИВТ-102, which has no timetable yet: what needs one must still answer, telling so."""
    vk_id = enrolled(stream.sandbox, stream.bot, "Ольга", "Безрасписанная", role, group="ИВТ-102")
    return Person(stream.sandbox, stream.bot, vk_id, f"{role.value} ИВТ-102")


@pytest.mark.parametrize(
    "role",
    ["headman", "deputy", "student", "admin", "pending", "stranger", "headman_no_timetable", "student_no_timetable"],
)
def test_every_menu_button_answers_its_role(stream: Stream, role: str) -> None:
    if role == "pending":
        person = pending_newcomer(stream)
    elif role.endswith("_no_timetable"):
        person = in_a_group_without_a_timetable(stream, Role(role.removesuffix("_no_timetable")))
    else:
        person = stream.person(role)
    refused = need_refusals(stream.bot.texts)
    person.say("меню").assert_ordinary()
    labels = menu_labels(person)
    if role not in ("pending", "stranger"):  # before onboarding the menu may be only «Помощь», or none
        assert labels, f"{role}: no main menu after «меню»: {person.history[-1].texts}"
    failures = []
    for label in labels:
        outcome = person.press(label, message=None)
        outcome.assert_ordinary()
        wrong = refusals_in(outcome.texts, refused)
        if wrong:
            failures.append(f"{role} pressed «{label}»: {wrong}")
        person.say("отмена").assert_ordinary()
        person.say("меню").assert_ordinary()  # «отмена» may show no menu to a newcomer: the next press needs one
    assert not failures, "\n".join(failures)


def test_registration_tells_a_leader_and_the_stream_admin_they_need_none(stream: Stream) -> None:
    """«Мои пропуски» typed by the stream admin still asks for a group and «регистрация»: that must not send her
    back, and there is no group to name (it once read «Вы уже в группе - как её руководитель…»)."""
    assert stream.admin.say("регистрация").texts[0] == (
        "Регистрация вам не нужна: вы управляете ботом всего потока, а не одной группы. Группы, старост и беседы "
        "настраивает команда «настройка», остальные команды — в меню."
    )  # onboarding.already_admin
    assert stream.headman.say("регистрация").texts[0] == (
        "Вы уже в группе ИВТ-101 как её руководитель или администратор — регистрация не нужна."
    )  # onboarding.already_placed


class InChat:
    """One person's messages and presses in a group chat, each waited for like Person's: handled, outbox empty."""

    def __init__(self, stream: Stream, peer_id: int, person: Person) -> None:
        self.sandbox, self.peer_id, self.person = stream.sandbox, peer_id, person

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._settle(f"{self.person.name} says {text!r} in the chat", lambda: self.sandbox.chat_send(
            self.peer_id, self.person.vk_id, text)["event_id"])  # fmt: skip

    def press(self, message: dict[str, Any], label: str) -> list[dict[str, Any]]:
        cmid = message["conversation_message_id"]
        return self._settle(f"{self.person.name} presses «{label}» in the chat", lambda: self.sandbox.chat_press(
            self.peer_id, self.person.vk_id, cmid, label)["envelope_event_id"])  # fmt: skip

    def _settle(self, what: str, act: Any) -> list[dict[str, Any]]:
        before = max((m["conversation_message_id"] for m in self.sandbox.chat_messages(self.peer_id)), default=0)
        event_id = act()
        deadline = time.monotonic() + HANG_GUARD
        error = self.person._handled(event_id, deadline, what)  # the waiting Person does for a private dialog
        self.person._outbox_empty(deadline, what)
        answers = [m for m in self.sandbox.chat_messages(self.peer_id, since=before) if m["from"] == "bot"]
        assert error is None, f"{what}: the event failed: {error}"
        assert not any(m["text"].startswith(APOLOGY_START) for m in answers), f"{what}: {answers}"
        return answers


def test_every_chat_menu_button_answers_everyone_in_the_chat(stream: Stream) -> None:
    """In a group chat everyone sees the keyboard whoever wrote «меню» got: each of the group may press it."""
    people = [stream.headman, stream.deputy, stream.students[0]]
    peer_id = stream.sandbox.create_chat("ИВТ-101", [person.vk_id for person in people], bot_is_admin=True)
    refused = need_refusals(stream.bot.texts)
    failures = []
    for asker in people:
        answers = InChat(stream, peer_id, asker).say("меню")  # (the first may come with «Беседа какой группы?»)
        [menu] = [m for m in answers if (m.get("keyboard") or {}).get("inline") is False]
        labels = [button["action"]["label"] for button in buttons_of(menu)]
        assert labels, f"{asker.name}: an empty menu in the chat"
        for presser in people:
            chat = InChat(stream, peer_id, presser)
            for label in labels:
                wrong = refusals_in([m["text"] for m in chat.press(menu, label)], refused)
                if wrong:
                    failures.append(f"{presser.name} pressed «{label}» of {asker.name}'s menu in the chat: {wrong}")
                chat.say("отмена")
    assert not failures, "\n".join(failures)
