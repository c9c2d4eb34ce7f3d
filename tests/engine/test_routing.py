"""Where an event goes, decided without a database (fsm_bot/engine/routing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.routing import GlobalWords, Route, route
from fsm_bot.storage.models import Dialog
from fsm_bot.vk.events import IncomingEvent

REGISTRY = FlowRegistry.from_names(["help", "tests.engine.sample_flows:survey"])
SURVEY = REGISTRY.get("survey")
WORDS = GlobalWords(cancel=frozenset({"отмена"}), back=frozenset({"назад"}), menu=frozenset({"меню"}))
IN_SURVEY = Dialog(flow="survey", state="age", version=3, data={})


def event(
    text: str = "", payload: dict[str, Any] | None = None, peer: int = 7, kind: str = "message_new"
) -> IncomingEvent:
    return IncomingEvent(kind, "e1", 1, 7, peer, text, payload)


@pytest.mark.parametrize(
    ("incoming", "in_dialog", "onboarded", "expected"),
    [
        (event("Отмена"), True, True, Route.CANCEL),
        (event("отмена"), False, True, Route.CANCEL),
        (event("  НАЗАД "), True, True, Route.BACK),
        (event("назад"), False, True, Route.UNKNOWN),  # nothing to go back in
        (event("меню"), True, True, Route.MENU),
        (event("", {"command": "start"}), False, True, Route.MENU),
        (event("42"), True, True, Route.STEP),
        (event("", {"f": "survey", "v": 3, "b": "yes"}), True, True, Route.STEP),
        (event("", {"f": "survey", "v": 2, "b": "yes"}), True, True, Route.STALE),  # an earlier step's button
        (event("", {"f": "survey", "v": 3, "b": "yes"}), False, True, Route.STALE),  # the dialog has ended
        (event("", {"c": "help"}), True, True, Route.COMMAND),  # a command button leaves the dialog's input
        (event("опрос"), False, True, Route.START),
        (event("привет"), False, True, Route.UNKNOWN),
        (event("привет"), False, False, Route.NEWCOMER),
        (event("привет", peer=2_000_000_001), False, True, Route.CHAT_TALK),
    ],
)
def test_each_event_goes_where_a_person_expects(
    incoming: IncomingEvent, in_dialog: bool, onboarded: bool, expected: Route
) -> None:
    active = SURVEY if in_dialog else None
    dialog = IN_SURVEY if in_dialog else None
    assert route(incoming, dialog, active, WORDS, REGISTRY, onboarded).route is expected


def test_a_command_button_for_a_flow_that_is_not_enabled_names_it_for_the_log() -> None:
    routed = route(event("", {"c": "nonexistent"}), None, None, WORDS, REGISTRY, True)
    assert (routed.route, routed.flow, routed.command) == (Route.COMMAND, None, "nonexistent")


ONE_SHOT = FlowRegistry.from_names(["help", "broadcast", "onboarding"])


@pytest.mark.parametrize(
    ("text", "flow", "rest"),
    [
        (".mb Завтра пар нет", "broadcast", "Завтра пар нет"),
        (".MB   Завтра\nпар нет ", "broadcast", "Завтра\nпар нет"),
        ("Рассылка участникам Экзамен в 301", "broadcast", "Экзамен в 301"),  # the longer trigger wins
        ("рассылка админам сервер лежит", "broadcast", "сервер лежит"),
        ("регистрация ИВТ-101", "onboarding", "ИВТ-101"),
    ],
)
def test_a_trigger_followed_by_text_starts_the_flow_with_that_text(text: str, flow: str, rest: str) -> None:
    routed = route(event(text), None, None, WORDS, ONE_SHOT, True)
    assert (routed.route, routed.flow.name if routed.flow else None, routed.rest) == (Route.START, flow, rest)


@pytest.mark.parametrize("text", ["помощь мне", ".mbЗавтра", "завтра .mb пар нет"])
def test_text_after_a_trigger_of_a_flow_that_takes_none_or_glued_to_it_is_not_a_start(text: str) -> None:
    assert route(event(text), None, None, WORDS, ONE_SHOT, True).route is Route.UNKNOWN


UPLOADS = FlowRegistry.from_names(["help", "roster", "timetable_upload"])


def with_document(text: str, ext: str, peer: int = 7) -> IncomingEvent:
    doc = {"type": "doc", "doc": {"title": f"week.{ext}", "ext": ext, "url": "http://127.0.0.1/doc"}}
    return IncomingEvent("message_new", "e1", 1, 7, peer, text, None, attachments=(doc,))


@pytest.mark.parametrize(
    ("incoming", "expected", "document"),
    [
        (with_document("", "yaml"), Route.START, True),  # a timetable file alone starts its flow
        (with_document("вот новое", "ics"), Route.START, True),
        (with_document("загрузить расписание", "yml"), Route.START, True),  # the trigger and its answer at once
        (with_document("загрузить расписание", "pdf"), Route.START, False),  # the trigger, then the question
        (with_document("", "pdf"), Route.UNKNOWN, False),
        (with_document("", "yaml", peer=2_000_000_001), Route.CHAT_TALK, False),  # files shared in a chat
    ],
)
def test_a_document_of_a_flow_that_takes_it_starts_that_flow_as_its_first_answer(
    incoming: IncomingEvent, expected: Route, document: bool
) -> None:
    routed = route(incoming, None, None, WORDS, UPLOADS, True)
    assert (routed.route, routed.document) == (expected, document)
    if expected is Route.START:
        assert routed.flow is UPLOADS.get("timetable_upload")


def test_a_document_in_an_open_dialog_is_that_dialogs_input() -> None:
    assert route(with_document("", "yaml"), IN_SURVEY, SURVEY, WORDS, UPLOADS, True).route is Route.STEP
