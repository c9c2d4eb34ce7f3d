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
