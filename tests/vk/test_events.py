"""parse_update: VK's envelopes (VK_PROTOCOL.md, "Update envelope") become IncomingEvent; anything else is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm_bot.vk.events import HANDLED_TYPES, IncomingEvent, MalformedEvent, parse_update
from tests.support.vk import EVENT_ID, GROUP, MESSAGE_NEW


def update(kind: str, obj: dict[str, Any], event_id: str = EVENT_ID) -> dict[str, Any]:
    return {"type": kind, "group_id": GROUP, "event_id": event_id, "v": "5.199", "object": obj}


def test_message_new_from_a_user() -> None:
    event = parse_update(copy.deepcopy(MESSAGE_NEW))
    assert event.type == "message_new"
    assert event.event_id == EVENT_ID
    assert event.group_id == GROUP
    assert event.user_id == 51422811
    assert event.peer_id == 51422811
    assert event.text == "hi"
    assert event.payload == {"cmd": "menu"}  # a JSON string in the envelope
    assert event.message_id == 101
    assert event.conversation_message_id == 2551
    assert event.attachments == () and event.fwd_messages == ()
    assert event.callback_event_id is None
    assert not event.in_chat
    assert event.raw == MESSAGE_NEW


def test_message_new_in_a_group_chat_has_only_a_conversation_message_id() -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"].update(id=0, peer_id=2_000_000_005, conversation_message_id=17)
    event = parse_update(raw)
    assert (event.peer_id, event.user_id, event.message_id, event.conversation_message_id) == (
        2_000_000_005,
        51422811,
        0,
        17,
    )
    assert event.in_chat


def test_message_new_keeps_attachments_and_forwards_that_are_objects() -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    photo = {"type": "photo", "photo": {"id": 1, "owner_id": 2}}
    raw["object"]["message"].update(attachments=[photo, "junk"], fwd_messages=[{"text": "fwd"}], payload=None)
    event = parse_update(raw)
    assert event.attachments == (photo,)
    assert event.fwd_messages == ({"text": "fwd"},)
    assert event.payload is None


@pytest.mark.parametrize("payload", ["", "not json", "[1, 2]", '"a string"', "x" * 5000, 7])
def test_a_payload_that_is_not_a_json_object_is_ignored(payload: Any) -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"]["payload"] = payload
    assert parse_update(raw).payload is None


def test_message_event_carries_an_object_payload_and_its_own_event_id() -> None:
    obj = {
        "user_id": 1,
        "peer_id": 1,
        "event_id": "1776a756b921",
        "payload": {"cmd": "ack"},
        "conversation_message_id": 130,
    }
    event = parse_update(update("message_event", obj))
    assert (event.type, event.user_id, event.peer_id) == ("message_event", 1, 1)
    assert event.payload == {"cmd": "ack"}
    assert event.callback_event_id == "1776a756b921"  # what messages.sendMessageEventAnswer needs
    assert event.event_id == EVENT_ID
    assert event.conversation_message_id == 130
    assert event.text == "" and event.message_id == 0


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("message_allow", {"user_id": 1, "key": "abc"}),
        ("message_deny", {"user_id": 1}),
        ("group_join", {"user_id": 1, "join_type": "join"}),
        ("group_leave", {"user_id": 1, "self": 1}),
    ],
)
def test_membership_and_permission_events_name_the_user(kind: str, obj: dict[str, Any]) -> None:
    event = parse_update(update(kind, obj))
    assert (event.type, event.user_id, event.peer_id, event.group_id) == (kind, 1, 1, GROUP)
    assert event.payload is None and event.text == ""


@pytest.mark.parametrize("kind", ["message_reply", "message_edit"])
def test_message_reply_and_edit_carry_the_bare_message(kind: str) -> None:
    message = {"id": 7, "peer_id": 5, "from_id": -GROUP, "text": "ответ", "conversation_message_id": 3}
    event = parse_update(update(kind, message))
    assert (event.type, event.message_id, event.peer_id, event.user_id, event.text) == (kind, 7, 5, -GROUP, "ответ")


def test_numbers_sent_as_strings_are_read() -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["group_id"] = str(GROUP)
    raw["object"]["message"]["from_id"] = "51422811"
    event = parse_update(raw)
    assert (event.group_id, event.user_id) == (GROUP, 51422811)


def test_a_negative_id_sent_as_a_string_is_read() -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"]["peer_id"] = "-5"
    assert parse_update(raw).peer_id == -5


@pytest.mark.parametrize("value", ["²", "١٢", "1²", " 7", "7\n", "+7", "1_000", "0x10", 2**63, -(2**63) - 1, 10**40])
@pytest.mark.parametrize("field", ["from_id", "peer_id", "id", "conversation_message_id"])
def test_a_number_that_is_not_ascii_digits_or_does_not_fit_64_bits_is_refused(field: str, value: Any) -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"][field] = value
    with pytest.raises(MalformedEvent, match=field):
        parse_update(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "not an object"),
        ({**MESSAGE_NEW, "type": "wall_post_new"}, "unsupported event type"),
        ({**MESSAGE_NEW, "type": None}, "unsupported event type"),
        ({**MESSAGE_NEW, "event_id": ""}, "event_id"),
        ({**MESSAGE_NEW, "event_id": "x" * 65}, "event_id"),
        ({**MESSAGE_NEW, "event_id": 5}, "event_id"),
        ({**MESSAGE_NEW, "object": "message"}, "object missing"),
        ({**MESSAGE_NEW, "group_id": True}, "group_id"),
        ({**MESSAGE_NEW, "group_id": "club1"}, "group_id"),
        ({**MESSAGE_NEW, "object": {"client_info": {}}}, "without a message"),
        ({**MESSAGE_NEW, "object": {"message": {"from_id": 1, "text": 5}}}, "text is not a string"),
        ({**MESSAGE_NEW, "object": {"message": {"text": "hi"}}}, "from_id"),
        (update("message_event", {"user_id": 1, "peer_id": 1}), "without its event_id"),
        (update("group_join", {"join_type": "join"}), "user_id"),
    ],
)
def test_malformed_updates_are_refused_with_a_reason(raw: Any, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        parse_update(raw)


def test_a_deeply_nested_payload_is_ignored_not_an_error() -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"]["payload"] = "[" * 4000
    assert parse_update(raw).payload is None


# --- garbage: the parser refuses (MalformedEvent) or returns a well-typed event, nothing else

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
numbers = st.integers() | st.integers().map(str) | st.sampled_from(["", " 1", "1e3", "0x10", "٣", "-0"]) | json_values
FIELDS = ["id", "from_id", "peer_id", "user_id", "conversation_message_id", "event_id", "text", "payload"]
inner = st.dictionaries(
    st.sampled_from([*FIELDS, "attachments", "fwd_messages"]),
    numbers | st.text(max_size=30) | json_values | st.just('{"cmd": "menu"}'),
    max_size=8,
)
envelopes = st.fixed_dictionaries(
    {
        "type": st.sampled_from([*sorted(HANDLED_TYPES), "confirmation", "wall_post_new"]) | json_values,
        "event_id": st.text(min_size=0, max_size=70) | json_values,
        "group_id": numbers,
        "object": inner | st.fixed_dictionaries({"message": inner}) | json_values,
    }
)


def check_event(event: IncomingEvent) -> None:
    assert isinstance(event, IncomingEvent)
    assert event.type in HANDLED_TYPES
    assert isinstance(event.event_id, str) and 0 < len(event.event_id) <= 64
    for number in (event.group_id, event.user_id, event.peer_id, event.message_id, event.conversation_message_id):
        assert type(number) is int
    assert isinstance(event.text, str)
    assert event.payload is None or isinstance(event.payload, dict)
    assert all(isinstance(item, dict) for item in (*event.attachments, *event.fwd_messages))
    assert event.callback_event_id is None or isinstance(event.callback_event_id, str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes)
def test_garbage_envelopes_are_refused_or_read(raw: Any) -> None:
    try:
        event = parse_update(raw)
    except MalformedEvent:
        return
    check_event(event)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_is_refused_or_read(raw: Any) -> None:
    try:
        event = parse_update(raw)
    except MalformedEvent:
        return
    check_event(event)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["group_id", "event_id", "type", "object"]), json_values)
def test_a_valid_envelope_with_one_field_spoiled_is_refused_or_read(field: str, value: Any) -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw[field] = value
    try:
        event = parse_update(raw)
    except MalformedEvent:
        return
    check_event(event)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(MESSAGE_NEW["object"]["message"])), json_values)
def test_a_valid_message_with_one_field_spoiled_is_refused_or_read(field: str, value: Any) -> None:
    raw = copy.deepcopy(MESSAGE_NEW)
    raw["object"]["message"][field] = value
    try:
        event = parse_update(raw)
    except MalformedEvent:
        return
    check_event(event)
