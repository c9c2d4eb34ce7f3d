"""Every state of every dialog, reached as a person reaches it, answers every kind of stray input.

Issue 15, point 3: «назад» crashed two dialogs, so every back edge is walked, together with the other
things people send in the middle of a dialog: «отмена», «меню», a message with no text (only a
sticker, or only spaces), a 5,000-character text, «²» (a digit to `str.isdigit`, not to `int`), and a
button of a message the dialog has left behind. Each must be answered as usual: a reply (or a
snackbar for a callback button), not the internal-error apology, and no ERROR in the log.

The states come from the flows' own tables, and PATHS says how a person reaches each one from the
menu: a state a flow declares without a path here fails `test_every_state_has_a_path`, so a new
step cannot go unwalked. A path may end in a state more than once (a confirmation reached after
giving reasons, or straight from the marks): a back edge is only as good as the way it was reached.
"""

from __future__ import annotations

import logging

import pytest

from fsm_bot.config import DEFAULT_FLOWS
from fsm_bot.engine.registry import FlowRegistry
from tests.support.person import Outcome, Person, buttons_of, dialog_buttons, payload_of
from tests.support.walk import LEAVE_YES, PATHS, As, Path, Press, Send, Stream, asks_to_leave, leave

BACK, CANCEL = "Назад", "Отмена"  # words.back and words.cancel in fsm_bot/locales/ru.yaml, as buttons
WITHOUT_BACK: set[str] = set()  # the states whose question has «Отмена» but no «Назад», for the log
STALE = "Эта кнопка устарела."  # errors.stale_button in fsm_bot/locales/ru.yaml
LONG_TEXT = ("Очень длинное сообщение, 12345 и ещё слова. " * 120)[:5000]
VK_MAX_TEXT = 4096  # VK splits a longer message into several: that is how the bot receives 5,000 characters
STICKER = {"type": "sticker", "sticker": {"sticker_id": 9, "product_id": 1}}
MAX_BACK_STEPS = 20  # the dialog keeps this much history (Conversation._save): more «назад» means a loop


def dialog_flows() -> dict[str, list[str]]:
    """Every enabled flow that is a dialog, with its states, as the bot will load them."""
    return {flow.name: list(flow.states) for flow in FlowRegistry.from_names(DEFAULT_FLOWS) if flow.is_dialog}


def test_every_state_has_a_path() -> None:
    flows = dialog_flows()
    missing = [f"{name}.{state}" for name, states in flows.items() for state in states
               if state not in {p.state for p in PATHS.get(name, [])}]  # fmt: skip
    assert not missing, f"add a path to PATHS for: {', '.join(missing)}"
    unknown = [f"{name}.{p.state}" for name, paths in PATHS.items() for p in paths
               if p.state not in flows.get(name, [])]  # fmt: skip
    assert not unknown, f"PATHS names states no flow has: {', '.join(unknown)}"


# --- walking


class Walker:
    def __init__(self, stream: Stream, flow: str) -> None:
        self.stream = stream
        self.flow = flow

    def reach(self, route: Path) -> Person:
        person = self.stream.person(route.who)
        leave(person)
        for step in route.steps:
            actor = person
            if isinstance(step, As):
                actor, step = self.stream.person(step.who), step.step
            self.act(actor, step).assert_ordinary()
        where = person.dialog()
        assert where == (self.flow, route.state), f"{route} ended in {where}; last answers {person.history[-1].texts}"
        return person

    @staticmethod
    def act(person: Person, step: str | Press | Send) -> Outcome:
        if isinstance(step, Send):
            return step.by(person)
        return person.press(step.label) if isinstance(step, Press) else person.say(step)

    def probe(self, route: Path, name: str) -> None:
        person = self.stream.person(route.who)
        if person.dialog() != (self.flow, route.state):
            self.reach(route)
        if name == "устаревшая кнопка" and self.old_button(person) is None:
            leave(person)  # in a first step: a button from the dialog before
            self.reach(route)
        for outcome in PROBES[name](self, person):
            outcome.assert_ordinary()

    # --- the probes: each returns every answer it got

    def way_out(self, person: Person) -> list[Outcome]:
        """The state's question (the bot's latest message) carries «Отмена», and «Назад» where the state has
        somewhere to go back to (issue 20, point 3); a state without «Назад» is noted in WITHOUT_BACK."""
        question = next(message for message in reversed(person.conversation()) if message["from"] == "bot")
        labels = [button["action"].get("label") for button in buttons_of(question)]
        assert CANCEL in labels, f"no «{CANCEL}» under {question['text'][:80]!r}: {labels}"
        if BACK not in labels:
            WITHOUT_BACK.add(f"{self.flow}.{person.dialog()[1]}")
        return []

    def back(self, person: Person) -> list[Outcome]:
        """«назад» until out of the dialog (a first step's leads to the menu, asking first when work would be
        lost): every back edge on the way."""
        outcomes = []
        first = (self.flow, dialog_flows()[self.flow][0])
        for _ in range(MAX_BACK_STEPS):
            was = person.dialog()
            outcome = person.say("назад")
            outcome.assert_ordinary()
            outcomes.append(outcome)
            if asks_to_leave(outcome):
                outcomes.append(person.press(LEAVE_YES))
            if person.dialog()[0] != self.flow or was == person.dialog() == first:
                return outcomes  # left, or a newcomer's registration: it has no menu to go back to, it asks again
        raise AssertionError(f"«назад» {MAX_BACK_STEPS} times never reached the first step: {outcomes[-3:]}")

    def cancel(self, person: Person) -> list[Outcome]:
        outcomes = [person.say("отмена")]
        if asks_to_leave(outcomes[0]):
            outcomes.append(person.press(LEAVE_YES))
        assert person.dialog()[0] != self.flow, f"«отмена» left {person.dialog()}"
        return outcomes

    def menu(self, person: Person) -> list[Outcome]:
        return [person.say("меню")]

    def attachment_only(self, person: Person) -> list[Outcome]:
        return [person.say("", attachments=[STICKER])]

    def spaces(self, person: Person) -> list[Outcome]:
        return [person.say("   ")]

    def long_text(self, person: Person) -> list[Outcome]:
        return [person.say(LONG_TEXT[:VK_MAX_TEXT]), person.say(LONG_TEXT[VK_MAX_TEXT:])]

    def superscript(self, person: Person) -> list[Outcome]:
        return [person.say("²")]

    def stale_button(self, person: Person) -> list[Outcome]:
        """A button of an earlier message: its version is not the dialog's any more."""
        found = self.old_button(person)
        assert found is not None, f"{person.name} has no earlier dialog button to press"
        message, label = found
        outcome = person.press(label, message)
        assert STALE in [*outcome.texts, _snackbar_text(outcome)], outcome
        return [outcome]

    def old_button(self, person: Person) -> tuple[dict, str] | None:
        """The latest message with a dialog button of another version than the dialog's now."""
        version = person.dialog_version()
        for message in reversed(person.conversation()):
            old = [b for b in dialog_buttons(message) if (payload_of(b) or {}).get("v") != version]
            if message["from"] == "bot" and old:
                return message, old[0]["action"]["label"]
        return None


PROBES = {
    "Назад и Отмена": Walker.way_out,  # first: it reads the question the path ended with
    # «назад» first: it leaves the state, so the next probe walks the path again, and then an older
    # message with buttons exists for the stale-button probe even in a flow's first state.
    "назад": Walker.back,
    "устаревшая кнопка": Walker.stale_button,
    "только стикер": Walker.attachment_only,
    "пробелы": Walker.spaces,
    "5000 символов": Walker.long_text,
    "²": Walker.superscript,
    "меню": Walker.menu,
    "отмена": Walker.cancel,
}


def _snackbar_text(outcome: Outcome) -> str:
    data = (outcome.snackbar or {}).get("event_data") or {}
    return str(data.get("text", ""))


@pytest.mark.parametrize("flow", sorted(dialog_flows()))
def test_every_state_answers_every_stray_input(stream: Stream, flow: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    walker = Walker(stream, flow)
    for route in PATHS[flow]:
        for name in PROBES:
            try:
                walker.probe(route, name)
            except AssertionError as failure:
                raise AssertionError(f"{flow}.{route.state} via {route.steps}, probe «{name}»: {failure}") from None
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, errors
    if without := sorted(state for state in WITHOUT_BACK if state.startswith(f"{flow}.")):
        print(f"no «{BACK}» in: {', '.join(without)}")  # for the record: a newcomer's first step has none
