"""One flow step, unit-tested: a Context around an IncomingEvent, with services a test fills by hand.

A flow handler only talks to `ctx` (fsm_bot/engine/context.py), and `ctx.services` is whatever the
engine's services factory made; so a step can run with no database, no VK and no thread: build the
context here, call the flow's own handler for the state (`flow.entry_handler` / `flow.input_handler`),
and read what it asked for with `effects_of(ctx)` (replies, trigger, target_state, finished) and
`ctx.data`. The fake grows only as the tests need: a method a step calls that is
not here fails with AttributeError, which says what to add.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import flows
from fsm_bot.engine.context import Context, DialogState, Reply, effects_of
from fsm_bot.engine.flow import Flow
from fsm_bot.members.info import MemberInfo
from fsm_bot.storage.models import Role
from fsm_bot.texts import Texts
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.payloads import FLOW_KEY, VALUE_KEY, VERSION_KEY

MOSCOW = ZoneInfo("Europe/Moscow")
TEXTS = Texts.load("ru", [Path(flows.__file__).parent / "locales"])  # as the bot loads them (runtime/bot.py)
ANNA = MemberInfo(
    vk_id=1001,
    first_name="Анна",
    last_name="Смирнова",
    role=Role.STUDENT,
    study_group="ИВТ-101",
    subgroup=1,
    status="active",
    can_receive=True,
)


@dataclass
class FakeBroadcasts:
    """What the broadcast dialog asks of its service before anything is sent."""

    subgroup_numbers: list[int] = field(default_factory=list)
    group_chat: int | None = None

    def subgroups(self) -> list[int]:
        return list(self.subgroup_numbers)


@dataclass(frozen=True)
class Subscription:
    kind: Any  # a SubscriptionKind
    at_time: time | None = None
    lead_minutes: int | None = None


@dataclass
class FakeTimetable:
    """A member's subscriptions, kept in a list; `group` None means the member has no study group."""

    group: str | None = "ИВТ-101"
    subscribed: list[Subscription] = field(default_factory=list)

    def subscriptions(self) -> list[Subscription]:
        return list(self.subscribed)

    def subscribe(self, kind: Any, at_time: time | None = None, lead_minutes: int | None = None) -> None:
        self.subscribed = [s for s in self.subscribed if s.kind != kind] + [Subscription(kind, at_time, lead_minutes)]


@dataclass
class FakeServices:
    """Stands in for CommunityServices (fsm_bot/services/community.py): values in, calls recorded."""

    groups: list[str] = field(default_factory=lambda: ["ИВТ-101", "ИВТ-102"])
    members: list[MemberInfo] = field(default_factory=list)
    broadcasts: FakeBroadcasts = field(default_factory=FakeBroadcasts)
    timetable: FakeTimetable = field(default_factory=FakeTimetable)
    auto_approve: bool = False
    timezone: ZoneInfo = MOSCOW
    nudge_after: timedelta = timedelta(hours=24)
    calls: list[tuple[Any, ...]] = field(default_factory=list)  # what the step changed, in order

    def study_groups(self) -> list[str]:
        return list(self.groups)

    def member(self, vk_id: int) -> MemberInfo | None:
        return next((member for member in self.members if member.vk_id == vk_id), None)

    def leaders_of(self, group_name: str) -> list[MemberInfo]:
        leaders = (Role.HEADMAN, Role.DEPUTY)
        return [m for m in self.members if m.study_group == group_name and m.role in leaders]

    def stream_admins(self) -> list[MemberInfo]:
        return [member for member in self.members if member.role is Role.ADMIN]

    def set_name(self, first_name: str, last_name: str) -> None:
        self.calls.append(("set_name", first_name, last_name))

    def request_group(self, group_name: str, approved: bool) -> None:
        self.calls.append(("request_group", group_name, approved))


def event(member: MemberInfo, text: str = "", payload: dict[str, Any] | None = None) -> IncomingEvent:
    """A private message from `member` (a keyboard button press is a message with a payload)."""
    return IncomingEvent(
        type="message_new",
        event_id="step-test",
        group_id=227000001,
        user_id=member.vk_id,
        peer_id=member.vk_id,
        text=text,
        payload=payload,
    )


def context(
    flow: Flow,
    state: str,
    text: str = "",
    *,
    button: str | tuple[str | int, ...] | None = None,
    member: MemberInfo = ANNA,
    data: dict[str, Any] | None = None,
    services: FakeServices | None = None,
) -> Context:
    """The context of one event in `state` of `flow`: a typed `text`, or a press of the step's `button`."""
    dialog = DialogState(flow.name, state, dict(data or {}), version=1)
    value = list(button) if isinstance(button, tuple) else button  # a structured value travels as a JSON list
    payload = {FLOW_KEY: flow.name, VERSION_KEY: dialog.version, VALUE_KEY: value} if value is not None else None
    return Context(
        event(member, text, payload),
        member,
        TEXTS,
        dialog,
        services or FakeServices(),
        lambda _member: [],  # «помощь»'s commands: likewise
    )


def asks(flow: Flow, state: str, **options: Any) -> Context:
    """Run the question of `state` (its entry handler); returns the context to assert on."""
    ctx = context(flow, state, **options)
    handler = flow.entry_handler(state)
    assert handler is not None, f"{flow.name} has no question for {state!r}"
    handler(ctx)
    return ctx


def answers(flow: Flow, state: str, text: str = "", **options: Any) -> Context:
    """Run `state`'s handling of an answer (its input handler) to `text` or `button=`; returns the context."""
    ctx = context(flow, state, text, **options)
    handler = flow.input_handler(state)
    assert handler is not None, f"{flow.name} takes no answer in {state!r}"
    handler(ctx)
    return ctx


def texts_of(ctx: Context) -> list[str]:
    """What the step said, in order."""
    return [reply.text for reply in effects_of(ctx).replies]


def labels_of(reply: Reply) -> list[str]:
    """The button labels under a reply, row by row flattened."""
    keyboard = json.loads(reply.keyboard) if reply.keyboard else {"buttons": []}
    return [button["action"]["label"] for row in keyboard["buttons"] for button in row]
