"""GroupCommitSink (callback pushes stored together): concurrent pushes share writes, and each push
returns only once its own event is stored, or raises when the write that held it failed."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from fsm_bot.vk.events import IncomingEvent, parse_update
from fsm_bot.vk.group_commit import GroupCommitSink
from tests.support.vk import MESSAGE_NEW


def _event(serial: int) -> IncomingEvent:
    envelope = {**MESSAGE_NEW, "event_id": f"push{serial}"}
    return parse_update(envelope)


class SlowSink:
    """Records each write; the first write waits until told, so pushes pile up behind it."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.writes: list[list[str]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.fail_on = fail_on

    def accept(self, events: Sequence[IncomingEvent], cursor: str | None = None) -> None:
        self.started.set()
        if not self.writes:
            self.release.wait(10)
        ids = [event.event_id for event in events]
        self.writes.append(ids)
        if self.fail_on in ids:
            raise ConnectionError("the database went away")

    def resume_cursor(self) -> str | None:
        return None


def _push_all(sink: GroupCommitSink, inner: SlowSink, count: int) -> dict[str, BaseException | None]:
    outcome: dict[str, BaseException | None] = {}

    def push(serial: int) -> None:
        event = _event(serial)
        try:
            sink.accept([event])
            outcome[event.event_id] = None
        except BaseException as error:  # the test reads what each push was told
            outcome[event.event_id] = error

    first = threading.Thread(target=push, args=(0,))
    first.start()
    assert inner.started.wait(5)
    rest = [threading.Thread(target=push, args=(serial,)) for serial in range(1, count)]
    for thread in rest:
        thread.start()
    while len(sink._waiting) < count - 1:  # every other push waits behind the first write
        threading.Event().wait(0.01)
    inner.release.set()
    for thread in [first, *rest]:
        thread.join(10)
    return outcome


def test_pushes_arriving_during_a_write_go_together_in_the_next() -> None:
    inner = SlowSink()
    outcome = _push_all(GroupCommitSink(inner), inner, 20)
    assert outcome == {f"push{serial}": None for serial in range(20)}
    assert inner.writes[0] == ["push0"]
    assert len(inner.writes) == 2 and sorted(inner.writes[1]) == sorted(f"push{n}" for n in range(1, 20))


def test_a_failed_write_fails_every_push_it_held_and_no_other() -> None:
    inner = SlowSink(fail_on="push5")
    outcome = _push_all(GroupCommitSink(inner), inner, 10)
    assert outcome["push0"] is None
    assert all(isinstance(outcome[f"push{n}"], ConnectionError) for n in range(1, 10))


def test_a_write_takes_at_most_its_share_and_the_rest_follow() -> None:
    inner = SlowSink()
    outcome = _push_all(GroupCommitSink(inner, most=4), inner, 13)
    assert all(error is None for error in outcome.values()) and len(outcome) == 13
    assert [len(write) for write in inner.writes] == [1, 4, 4, 4]


def test_a_long_poll_batch_with_its_cursor_is_written_as_it_is() -> None:
    inner = SlowSink()
    inner.release.set()
    GroupCommitSink(inner).accept([_event(1), _event(2)], cursor="42")
    assert inner.writes == [["push1", "push2"]]
