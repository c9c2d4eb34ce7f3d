"""The Bots Long Poll source against the sandbox: every update reaches the inbox once, whatever VK does."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy.exc import OperationalError

from fsm_bot.engine.inbox import Inbox
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.vk.events import IncomingEvent, parse_update
from fsm_bot.vk.longpoll import LongPollFatalError, LongPollSource
from fsm_bot.vk.transport import GatewayVkApi, make_vk_api
from tests.support.vk import API_VERSION, stored_events, stored_ids, wait_for_ids
from tests.support.waiting import wait_for

LOGGER = "fsm_bot.vk.longpoll"
FAST_BACKOFF = {"backoff_initial": 0.05, "backoff_max": 0.5}

Fault = tuple[str, int | str, int]  # target, kind, count (POST /sandbox/faults)

# Each phase: one message is being stored, five more wait in VK's history, then the faults hit the next poll.
# The last number is how many outages (logged once each) the phase causes.
PHASES: list[tuple[list[Fault], int]] = [
    ([], 0),
    ([("longpoll", "http_500", 2)], 1),
    ([("longpoll", "disconnect", 2)], 1),
    ([("longpoll", "failed_1", 1)], 0),  # VK offers its newest ts: the five in its history must still be read
    ([("longpoll", "failed_2", 1)], 0),  # routine: new key, same ts
    ([("longpoll", "failed_3", 1)], 0),  # new key and newest ts: again, the history after ours must be read
    ([("longpoll", "failed_2", 1), ("groups.getLongPollServer", 6, 1)], 1),
    ([("longpoll", "failed_2", 1), ("groups.getLongPollServer", 10, 2)], 1),
    ([("longpoll", "http_500", 1), ("longpoll", "disconnect", 1), ("longpoll", "failed_1", 1)], 1),
    ([("longpoll", "failed_3", 1), ("groups.getLongPollServer", "http_500", 1)], 1),
]


class GatedInbox:
    """The real inbox, but a batch of events waits at the gate: lets a test act while the source is busy."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        if events and not self.gate.is_set():
            self.waiting.set()
            assert self.gate.wait(15), "the test never opened the gate"
        self.inbox.accept(events, cursor)

    def resume_cursor(self) -> str | None:
        return self.inbox.resume_cursor()


def start_source(
    sources: list[LongPollSource], vk: GatewayVkApi, sandbox: SandboxClient, sink: Inbox | object, **options: object
) -> LongPollSource:
    """A running source whose starting point is stored, so nothing sent from now on can be missed."""
    source = LongPollSource(vk, sandbox.group_id, sink, **{**FAST_BACKOFF, **options})  # type: ignore[arg-type]
    sources.append(source)
    source.start()
    wait_for(sink.resume_cursor, lambda cursor: cursor is not None, "the source to store its starting cursor")  # type: ignore[attr-defined]
    return source


def messages(caplog: pytest.LogCaptureFixture, contains: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and contains in r.getMessage()]


def assert_once_each(stored: Sequence[str], sent: Sequence[str]) -> None:
    repeated = [event_id for event_id, n in Counter(stored).items() if n > 1]
    assert not repeated, f"stored more than once: {repeated}"
    assert set(stored) == set(sent), f"missing {set(sent) - set(stored)}, unexpected {set(stored) - set(sent)}"


def test_sixty_messages_through_every_kind_of_vk_failure_arrive_once_each(
    sandbox: SandboxClient, vk: GatewayVkApi, inbox: Inbox, database: Database, sources, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    students = [sandbox.add_user("Студент", str(n))["id"] for n in range(3)]
    sink = GatedInbox(inbox)
    start_source(sources, vk, sandbox, sink)
    sent: list[str] = []

    def send() -> None:
        n = len(sent)
        sent.append(sandbox.send(students[n % 3], f"сообщение {n}")["event_id"])

    for faults, _ in PHASES:
        sink.gate.clear()
        sink.waiting.clear()
        send()
        assert sink.waiting.wait(15), "the first message of the phase never reached the inbox"
        for _ in range(5):
            send()  # into VK's history, after the ts of the batch being stored
        for target, kind, count in faults:
            sandbox.inject_fault(target, kind, count)
        sink.gate.set()
        wait_for_ids(database, sandbox.group_id, sent)

    assert len(sent) == 60
    assert_once_each(stored_ids(database, sandbox.group_id), sent)
    outages = sum(expected for _, expected in PHASES)
    wait_for(lambda: messages(caplog, "recovered after"), lambda found: len(found) >= outages, "recovery logs")
    assert len(messages(caplog, "; retrying")) == outages, messages(caplog, "; retrying")
    assert len(messages(caplog, "recovered after")) == outages, messages(caplog, "recovered after")
    assert len(messages(caplog, "recovered after 1 failure /")) == 2  # getLongPollServer: error 6, HTTP 500
    assert len(messages(caplog, "asking again from ours")) == 3  # failed_1 twice, failed_3 once (the 2nd failed)
    assert not messages(caplog, "may have been lost")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("fsm_bot"))
    assert sandbox.token not in ours and "key=" not in ours


def test_stop_cuts_a_poll_vk_is_holding(
    sandbox: SandboxClient, vk: GatewayVkApi, inbox: Inbox, database: Database, sources
) -> None:
    source = start_source(sources, vk, sandbox, inbox, wait=25)
    student = sandbox.add_user()["id"]
    wait_for_ids(database, sandbox.group_id, [sandbox.send(student, "привет")["event_id"]])
    # Stored, so the source is polling again, and nothing else happens: VK would answer in 25 s.
    assert source.stop(timeout=5), "stop() waited for the held poll"
    assert not source.running and source.error is None


def test_a_restart_resumes_from_the_stored_cursor(
    sandbox: SandboxClient, vk: GatewayVkApi, database: Database, sources
) -> None:
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    first = start_source(sources, vk, sandbox, Inbox(database, sandbox.group_id), wait=25)
    sent: list[str] = []
    stream = threading.Thread(target=lambda: sent.extend(sandbox.send(student, f"{n}")["event_id"] for n in range(20)))
    stream.start()
    wait_for(lambda: stored_ids(database, sandbox.group_id), lambda ids: len(ids) >= 5, "the stream to start")
    # VK holds the poll for 25 s when idle; stopping must not wait for it.
    assert first.stop(timeout=5), "the source did not stop within 5 s"
    stream.join()
    sent.extend(sandbox.send(student, f"while down {n}")["event_id"] for n in range(5))
    assert len(stored_ids(database, sandbox.group_id)) < 25

    # A new process: new VkApi, new inbox, same database.
    fresh_vk = make_vk_api(sandbox.token, sandbox.api_url, API_VERSION, timeout=10)
    start_source(sources, fresh_vk, sandbox, Inbox(database, sandbox.group_id))
    wait_for_ids(database, sandbox.group_id, sent)
    assert_once_each(stored_ids(database, sandbox.group_id), sent)


class FlakyInbox:
    """The real inbox behind a database that is down for the first `failures` batches of events."""

    def __init__(self, inbox: Inbox, failures: int) -> None:
        self.inbox = inbox
        self.failures = failures

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        if events and self.failures > 0:
            self.failures -= 1
            raise OperationalError("INSERT INTO processed_event ...", {}, ConnectionError("server closed"))
        self.inbox.accept(events, cursor)

    def resume_cursor(self) -> str | None:
        return self.inbox.resume_cursor()


def test_events_wait_in_vk_while_the_database_is_down(
    sandbox: SandboxClient, vk: GatewayVkApi, inbox: Inbox, database: Database, sources, caplog
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    student = sandbox.add_user()["id"]
    sink = FlakyInbox(inbox, failures=3)
    start_source(sources, vk, sandbox, sink)
    sent = [sandbox.send(student, f"{n}")["event_id"] for n in range(10)]
    wait_for_ids(database, sandbox.group_id, sent)
    assert sink.failures == 0
    assert_once_each(stored_ids(database, sandbox.group_id), sent)
    wait_for(lambda: messages(caplog, "recovered after"), bool, "the recovery log")
    assert messages(caplog, "; retrying") == ["long poll: cannot store events (OperationalError); retrying"]
    assert len(messages(caplog, "recovered after 3 failures")) == 1


def test_a_cursor_vk_no_longer_knows_is_left_with_one_warning(
    sandbox: SandboxClient, vk: GatewayVkApi, inbox: Inbox, database: Database, sources, caplog
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    student = sandbox.add_user()["id"]
    inbox.accept([], cursor="999999999")  # far outside the server's history: it answers failed 1, twice
    source = LongPollSource(vk, sandbox.group_id, inbox, **FAST_BACKOFF)  # type: ignore[arg-type]
    sources.append(source)
    source.start()
    wait_for(lambda: messages(caplog, "may have been lost"), bool, "the warning about lost history")
    sent = [sandbox.send(student, "после перерыва")["event_id"]]
    wait_for_ids(database, sandbox.group_id, sent)
    assert stored_ids(database, sandbox.group_id) == sent
    assert len(messages(caplog, "may have been lost")) == 1
    assert not messages(caplog, "; retrying")


def test_updates_arrive_as_vk_describes_them(
    sandbox: SandboxClient, vk: GatewayVkApi, inbox: Inbox, database: Database, sources
) -> None:
    student = sandbox.add_user("Анна", "Смирнова")["id"]
    newcomer = sandbox.add_user("Пётр", "Иванов", allow_messages=False, member=False)["id"]
    start_source(sources, vk, sandbox, inbox)

    typed = sandbox.send(student, "Меню", payload={"cmd": "menu"})
    keyboard = {
        "inline": True,
        "buttons": [
            [{"action": {"type": "text", "label": "Да", "payload": '{"b":1}'}, "color": "positive"}],
            [{"action": {"type": "callback", "label": "Ознакомлен", "payload": '{"ack":7}'}, "color": "primary"}],
        ],
    }
    bot_message = vk.method(
        "messages.send",
        {"peer_id": student, "random_id": 1, "message": "Прочтите", "keyboard": json.dumps(keyboard)},
    )
    pressed_text = sandbox.press(student, bot_message, "Да")["event_id"]
    # For a callback press the sandbox answers the inner id (what sendMessageEventAnswer takes) and the envelope's.
    pressed_callback = sandbox.press(student, bot_message, "Ознакомлен")
    sandbox.update_user(newcomer, allow_messages=True)
    sandbox.update_user(newcomer, member=True)
    sandbox.update_user(newcomer, allow_messages=False)
    sandbox.update_user(newcomer, member=False)

    rows = wait_for(lambda: stored_events(database, sandbox.group_id), lambda rows: len(rows) >= 7, "7 updates")
    events = [parse_update(envelope) for _, envelope in rows]

    def by_type(kind: str) -> list[IncomingEvent]:
        return [event for event in events if event.type == kind]

    menu, yes = by_type("message_new")
    assert menu.event_id == typed["event_id"]
    assert (menu.group_id, menu.user_id, menu.peer_id, menu.text) == (sandbox.group_id, student, student, "Меню")
    assert menu.payload == {"cmd": "menu"}  # a JSON string in the envelope
    assert isinstance(menu.raw["object"]["message"]["payload"], str)
    assert (menu.message_id, menu.conversation_message_id) == (typed["message_id"], typed["conversation_message_id"])
    assert menu.raw["v"] == API_VERSION and menu.raw["object"]["client_info"]["keyboard"] is True
    assert not menu.in_chat
    assert (yes.event_id, yes.text, yes.payload) == (pressed_text, "Да", {"b": 1})

    [ack] = by_type("message_event")
    assert ack.event_id == pressed_callback["envelope_event_id"]
    assert ack.callback_event_id == pressed_callback["event_id"]
    assert (ack.user_id, ack.peer_id, ack.payload) == (student, student, {"ack": 7})  # an object in the envelope
    assert isinstance(ack.raw["object"]["payload"], dict)
    assert ack.conversation_message_id > 0

    for kind in ("message_allow", "group_join", "message_deny", "group_leave"):
        [event] = by_type(kind)
        assert (event.user_id, event.peer_id, event.group_id) == (newcomer, newcomer, sandbox.group_id), kind
    [joined] = by_type("group_join")
    assert joined.raw["object"]["join_type"] == "join"
    assert "key" in by_type("message_allow")[0].raw["object"]
    assert [e.type for e in events] == [
        "message_new",
        "message_new",
        "message_event",
        "message_allow",
        "group_join",
        "message_deny",
        "group_leave",
    ]


def test_a_bad_token_stops_the_source_with_a_clear_error(
    sandbox: SandboxClient, inbox: Inbox, database: Database, caplog
) -> None:
    bad_vk = make_vk_api("not-a-community-token", sandbox.api_url, API_VERSION, timeout=10)

    source = LongPollSource(bad_vk, sandbox.group_id, inbox, **FAST_BACKOFF)  # type: ignore[arg-type]
    with pytest.raises(LongPollFatalError, match="authorization failed") as raised:
        source.run()
    assert raised.value.code == 5 and "token" in str(raised.value)

    threaded = LongPollSource(bad_vk, sandbox.group_id, inbox, **FAST_BACKOFF)  # type: ignore[arg-type]
    threaded.start()
    assert threaded.wait(timeout=10), "the source kept running with a bad token"
    assert isinstance(threaded.error, LongPollFatalError) and threaded.error.code == 5
    assert not threaded.running
    assert "not-a-community-token" not in caplog.text
    assert stored_ids(database, sandbox.group_id) == []
