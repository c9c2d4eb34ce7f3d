"""What one message or press means, decided before anything runs (DESIGN.md, "Life of an event", step 3).

A pure decision from the event, the person's dialog and the registry: the global words (отмена, назад,
меню) work in any state; a dialog's button must name the dialog's current version, or it is stale; in a
dialog, anything else is the next step's input unless it is a command button; when idle, triggers and
command buttons start flows. Nothing here writes, so every branch can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fsm_bot.engine.flow import Flow
from fsm_bot.engine.registry import FlowRegistry, normalize
from fsm_bot.storage.models import Dialog
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.payloads import COMMAND_KEY, FLOW_KEY, START_PAYLOAD_KEY, VERSION_KEY


class Route(Enum):
    STEP = "step"  # the active dialog's next input (a text, or a current button)
    STALE = "stale"  # a button of an earlier step, or pressed twice
    CANCEL = "cancel"
    BACK = "back"
    MENU = "menu"
    COMMAND = "command"  # a command button: start the flow it names
    START = "start"  # a trigger word
    CHAT_TALK = "chat_talk"  # people talking in a group chat: not for the bot
    NEWCOMER = "newcomer"  # someone not yet in a group wrote something the bot does not know
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class GlobalWords:
    """The words that work in any state, as the catalog lists them (normalised)."""

    cancel: frozenset[str]
    back: frozenset[str]
    menu: frozenset[str]


@dataclass(frozen=True)
class Routed:
    route: Route
    flow: Flow | None = None  # the flow to start (START, COMMAND) or the active one
    command: str = ""  # the flow a command button named (COMMAND), for the log when it is unknown
    rest: str = ""  # START: the text after the trigger, the first state's answer (Flow.takes_text)
    document: bool = False  # START: the message's document is the first state's answer (Flow.takes_documents)


def route(
    event: IncomingEvent,
    dialog: Dialog | None,
    active: Flow | None,
    words: GlobalWords,
    registry: FlowRegistry,
    onboarded: bool,
) -> Routed:
    """Where this event goes; `active` is the flow of the person's open dialog, if any."""
    payload = event.payload or {}
    word = normalize(event.text) if event.type == "message_new" else ""
    if event.type == "message_new" and event.invites_community and registry.when_invited is not None:
        return Routed(Route.START, registry.when_invited)  # a service message: no text, no payload
    if VERSION_KEY in payload:
        current = (
            active is not None
            and dialog is not None
            and payload.get(FLOW_KEY) == dialog.flow
            and payload.get(VERSION_KEY) == dialog.version
        )
        return Routed(Route.STEP, active) if current else Routed(Route.STALE, active)
    if word and word in words.cancel:
        return Routed(Route.CANCEL, active)
    if word and word in words.back and active is not None:
        return Routed(Route.BACK, active)
    if (word and word in words.menu) or payload.get(START_PAYLOAD_KEY) == "start":
        return Routed(Route.MENU, active)
    if active is not None and COMMAND_KEY not in payload:
        return Routed(Route.STEP, active)
    if COMMAND_KEY in payload:
        name = str(payload[COMMAND_KEY])
        return Routed(Route.COMMAND, registry.get(name), command=name)
    if (flow := registry.by_trigger(event.text)) is not None:
        return Routed(Route.START, flow, document=registry.by_document(event.attachments) is flow)
    if word and (found := registry.with_text(event.text)) is not None:
        return Routed(Route.START, found[0], rest=found[1])
    if not event.in_chat and (flow := registry.by_document(event.attachments)) is not None:
        return Routed(Route.START, flow, document=True)  # a timetable file sent as it is: people share files in chats
    if event.in_chat:
        return Routed(Route.CHAT_TALK)
    if not onboarded:
        return Routed(Route.NEWCOMER)
    return Routed(Route.UNKNOWN)
