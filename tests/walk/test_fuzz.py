"""Whatever a person sends, in whatever step, the bot answers sanely and goes on answering others.

Hypothesis picks who writes (a student, a headman, a stranger), how far into a dialog they went by
real steps (the paths of test_every_state), and what they send then: text with digits of other
scripts, control and bidi characters, up to VK's 4,096 characters; or the payload of a button the
bot really sent them, mutated (a huge or negative number, a string, nesting, keys renamed or lost),
as any client can send it. After each example a bystander writes «помощь» and must be answered: a
failure that stalls the queue shows there, not only as an apology.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fsm_bot.sandbox.client import SandboxError
from tests.support.person import APOLOGY_START, Person, buttons_of, payload_of
from tests.support.walk import PATHS, As, Press, Send, Stream, leave

WRITERS = ("student", "headman", "stranger")
ROUTES = [route for routes in PATHS.values() for route in routes]
MAX_PAYLOAD = 255  # VK: a button's payload is at most 255 characters, so no client sends more
MAX_TEXT = 4096  # VK: a longer message arrives as several
NUL = "\x00"  # its own test below: on PostgreSQL the inbox leaves such an event out, with an ERROR
STICKER = {"type": "sticker", "sticker": {"sticker_id": 9, "product_id": 1}}

_ODD_CHARACTERS = st.sampled_from(
    [
        "²", "³", "½", "٣", "۷", "߁", "१", "๓", "𝟘", "①", "Ⅻ", "０",  # digits to str.isdigit or Unicode, not int()
        "\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\u200b", "\ufeff", "\u00ad",  # bidi, zero width
        "\x07", "\x1b", "\x7f", "\u0085", "\u2028", "\r", "\n", "\t",  # control, line breaks
        "ё", "Ё", "й", "👨‍👩‍👧", "🏳️‍🌈", "e\u0301", "ﷺ", "𒐫",  # joiners, combining marks, wide ones
        "отмена", "назад", "меню", "помощь", "Готово", "сегодня", "03.12", "10:45-12:15", "-1", "99999999999",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.lists(st.one_of(_ODD_CHARACTERS, st.characters(blacklist_characters=NUL)), max_size=30).map("".join),
    st.lists(_ODD_CHARACTERS, min_size=1, max_size=12).map(" ".join),
    st.integers(min_value=3000, max_value=MAX_TEXT).map(lambda size: ("Длинный текст ²٣\u202e " * 300)[:size]),
)
ODD_VALUES = st.sampled_from(
    [99999999999, -99999999999, -1, 0, 2**63, 1.5, "²", "", "٣", "-5", "t:²", "r:1:x", "sub:99999999999",
     "p:next", "done", None, True, [], [1, 2], {"b": {"b": 1}}, "x" * 120]
)  # fmt: skip


IN_A_LIST = "<the payload, in a list>"
MUTATIONS = st.tuples(
    st.sampled_from(["value", "value", "rename", "drop", "add", "replace"]),
    st.integers(0, 99),  # which key (modulo the keys there are: the drawing must not depend on the bot's state)
    ODD_VALUES,
    st.sampled_from(["B", "command", "ф", "v ", "c", "f", "b"]),
    st.sampled_from([IN_A_LIST, "команда", 42, None, {"command": "start", "v": -1}]),
)


def mutate(payload: dict[str, Any], mutation: tuple) -> Any:  # type: ignore[type-arg]
    """`payload` as a forging client would send it instead."""
    kind, key_index, value, new_key, replacement = mutation
    mutated = dict(payload)
    keys = sorted(mutated) or ["b"]
    key = keys[key_index % len(keys)]
    if kind == "value":
        mutated[key] = value
    elif kind == "rename":
        mutated[new_key] = mutated.pop(key, None)
    elif kind == "drop":
        mutated.pop(key, None)
    elif kind == "add":
        mutated[new_key] = value
    else:
        return [payload] if replacement == IN_A_LIST else replacement
    return mutated


def real_payloads(person: Person) -> list[dict[str, Any]]:
    """Payloads of the buttons the bot has sent this person, newest first."""
    found = []
    for message in reversed(person.conversation()):
        for button in buttons_of(message):
            payload = payload_of(button)
            if payload is not None and payload not in found:
                found.append(payload)
    return found or [{"c": "broadcast"}]


def walk(person: Person, route_index: int, depth: int) -> None:
    """The first `depth` steps of a path, as far as this person can take them (a student is refused a headman's)."""
    for step in ROUTES[route_index].steps[:depth]:
        if isinstance(step, As):
            return
        if isinstance(step, Press):
            if not any(person.button_label(m, step.label, strict=False) for m in person.conversation()[-3:]):
                return
            outcome = person.press(step.label)
        elif isinstance(step, Send):
            outcome = step.by(person)
        else:
            outcome = person.say(step)
        check(outcome.error, outcome.texts, outcome.what)


def check(outcome_error: str | None, texts: list[str], what: str) -> None:
    assert outcome_error is None, f"{what}: the event failed: {outcome_error}"
    assert not any(text.startswith(APOLOGY_START) for text in texts), f"{what}: apologised: {texts}"


@pytest.mark.timeout(600)
def test_stray_texts_and_forged_buttons_are_answered_sanely(stream: Stream, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    bystander = stream.students[2]
    sent: list[str] = []  # what each example sent: a stall shows in the example after the one that caused it

    @settings(
        max_examples=30,
        deadline=None,
        database=None,  # nothing written into the working tree
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every example costs a bot round trip
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        writer=st.sampled_from(WRITERS),
        route_index=st.integers(0, len(ROUTES) - 1),
        depth=st.integers(0, 8),
        forge=st.booleans(),
        button_index=st.integers(0, 999),
        mutation=MUTATIONS,
        text=TEXTS,
    )
    def example(
        writer: str, route_index: int, depth: int, forge: bool, button_index: int, mutation: tuple, text: str
    ) -> None:
        before = sent[-1:]
        try:
            run(writer, route_index, depth, forge, button_index, mutation, text)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n(the example before sent: {before})") from None

    def run(
        writer: str, route_index: int, depth: int, forge: bool, button_index: int, mutation: tuple, text: str
    ) -> None:
        person = stream.person(writer)
        leave(person)
        walk(person, route_index, depth)
        errors_before = len(caplog.records)
        payloads = real_payloads(person)
        payload = mutate(payloads[button_index % len(payloads)], mutation) if forge else None
        encoded = json.dumps(payload, ensure_ascii=False) if forge else None
        if encoded is not None and len(encoded) > MAX_PAYLOAD:
            return  # no VK client sends it
        what = f"{person.name} after {ROUTES[route_index].steps[:depth]} sends {text!r} with payload {encoded}"
        sent.append(what)
        try:
            outcome = person.say(text, attachments=None if text else [STICKER], payload=encoded)
        except SandboxError as refused:  # VK itself would not pass it on (the sandbox says why)
            assert refused.status < 500, f"{what}: the sandbox broke: {refused}"
            return
        check(outcome.error, outcome.texts, what)
        help_outcome = bystander.say("помощь")
        help_outcome.assert_ordinary()
        logged = [r.getMessage() for r in caplog.records[errors_before:] if r.levelno >= logging.ERROR]
        assert not logged, f"{what}: logged {logged}"

    example()


@pytest.mark.timeout(120)
def test_a_nul_character_in_a_message_does_not_stop_the_bot_for_everyone(stream: Stream) -> None:
    """Found by the fuzz test above: PostgreSQL refuses U+0000 in a JSON document, and the long poll
    retried storing that event for ever, so nobody was answered after it. Now the inbox leaves it out
    (fsm_bot/engine/inbox.py), so the writer may get no answer, but everyone else still does."""
    writer = stream.students[0]
    stream.sandbox.send(writer.vk_id, f"a {NUL} b")  # not waited for: stored and answered, or left out
    stream.students[2].say("помощь").assert_ordinary()
    assert not any(m["text"].startswith(APOLOGY_START) for m in writer.conversation() if m["from"] == "bot")
