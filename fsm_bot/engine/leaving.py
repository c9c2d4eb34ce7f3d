"""Leaving a dialog that holds unsaved work asks first (issue 20).

A flow names the steps that hold work a person would lose, and the warning, in its header:
`Flow(..., unsaved=Unsaved("broadcast.leave_warning", when=lambda data: bool(data.get("parts"))))`.
When a person there writes «отмена» or «меню», says «назад» on a first step (it leads to the menu), or
presses a button that starts another flow (the main menu's, «Ознакомлен»), the engine asks first:
«Черновик рассылки будет удалён. Выйти?» with «Да, выйти» and «Нет, остаться».

The question is a step of the dialog like any other, kept in the dialog's row: its data's LEAVING key
holds what the person had sent, so it survives a restart and times out as the step it interrupts did.
Asking moves the dialog's version on, so the step's own buttons are stale while it waits.

«Да, выйти», or «отмена», «меню» or another menu button now: the dialog ends and what they had sent is
carried out (the cancellation, the menu, the flow pressed). «Нет, остаться» or «назад»: the data is as
it was and the step's question is asked again. Anything else asks the question again.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, Protocol

from fsm_bot.engine.context import Context, DialogState, Reply
from fsm_bot.engine.flow import Flow, Handler
from fsm_bot.engine.registry import normalize
from fsm_bot.engine.routing import GlobalWords, Route, Routed
from fsm_bot.engine.saving import Answer
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import allows
from fsm_bot.storage.models import Dialog
from fsm_bot.storage.repositories import DialogRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Texts
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.keyboards import Color, KeyboardButton, build_keyboard
from fsm_bot.vk.payloads import COMMAND_KEY, FLOW_KEY, START_PAYLOAD_KEY, VALUE_KEY, VERSION_KEY


class _Engine(Protocol):
    @property
    def words(self) -> GlobalWords: ...

    def timeout_for(self, flow: Flow) -> timedelta: ...


class Conversation(Protocol):
    """What this module uses of engine/conversation.py's Conversation (which imports this module)."""

    event: IncomingEvent
    dialog: Dialog | None

    @property
    def handler(self) -> _Engine: ...

    @property
    def dialogs(self) -> DialogRepository: ...

    @property
    def member(self) -> MemberInfo: ...

    @property
    def texts(self) -> Texts: ...

    @property
    def answer(self) -> Answer: ...

    def _say(self, text: str, menu: bool = False) -> None: ...

    def _to_menu(self, active: Flow | None) -> None: ...

    def _allowed(self, flow: Flow) -> bool: ...

    def _context(self, state: DialogState) -> Context: ...

    def _dialog_state(self, flow: Flow, dialog: Dialog | None) -> DialogState: ...

    def _drive(self, flow: Flow, ctx: Context, first: Handler | None) -> None: ...


LEAVING = "_leaving"  # the dialog data's key while the question waits: {"by": ..., "text": ..., "payload": ...}
LEAVE, STAY = "leave", "stay"  # the values of its two buttons
CANCEL, MENU, START = "cancel", "menu", "start"  # what the person's message would have done


def is_asking(dialog: Dialog | None) -> bool:
    """Whether this dialog waits for the answer to «Выйти?»."""
    return dialog is not None and LEAVING in (dialog.data or {})


def leaves_work(conversation: Conversation, routed: Routed, active: Flow) -> str | None:
    """How `routed` would leave unsaved work of `active` behind (CANCEL, MENU, START), or None when it would not."""
    dialog, member = conversation.dialog, conversation.member
    unsaved = active.unsaved
    if dialog is None or unsaved is None or not allows(member.role, active.role):
        return None
    if not unsaved.held(dialog.state, dialog.data or {}):
        return None
    match routed.route:
        case Route.CANCEL:
            return CANCEL
        case Route.MENU:
            return MENU
        case Route.BACK if not (dialog.data or {}).get("_history"):
            return MENU  # a first step's «назад» leads to the menu
        case Route.COMMAND | Route.START if routed.flow is not None and allows(member.role, routed.flow.role):
            return START
    return None


def ask(conversation: Conversation, active: Flow, by: str) -> None:
    """Keep what the person sent, and ask whether to leave."""
    dialog, event = conversation.dialog, conversation.event
    assert dialog is not None
    sent = {"by": by, "text": event.text, "payload": event.payload or {}}
    dialog.data = {**(dialog.data or {}), LEAVING: sent}
    dialog.version += 1
    dialog.expires_at = utcnow() + conversation.handler.timeout_for(active)
    _question(conversation, active)


def answer(conversation: Conversation, active: Flow) -> bool:
    """The person's answer to «Выйти?». True when they left and what they had sent now runs as it would with
    no dialog open (`conversation.event` is that message again); False when it is all answered here."""
    dialog, event, texts = conversation.dialog, conversation.event, conversation.texts
    assert dialog is not None
    payload = event.payload or {}
    words = conversation.handler.words
    word = normalize(event.text) if event.type == "message_new" else ""
    if VERSION_KEY in payload:
        if payload.get(FLOW_KEY) != dialog.flow or payload.get(VERSION_KEY) != dialog.version:
            conversation.answer.say_or_snackbar(texts("errors.stale_button"))
            return False
        value = payload.get(VALUE_KEY)
        if value == LEAVE:
            return _leave(conversation, dict(dialog.data[LEAVING]))
        if value == STAY:
            _stay(conversation, active)
            return False
    elif word and word in words.cancel:
        return _leave(conversation, {"by": CANCEL})
    elif (word and word in words.menu) or payload.get(START_PAYLOAD_KEY) == "start":
        return _leave(conversation, {"by": MENU})
    elif word and word in words.back:
        _stay(conversation, active)
        return False
    elif COMMAND_KEY in payload:
        return _leave(conversation, {"by": START, "text": event.text, "payload": payload})
    _question(conversation, active)
    return False


def _question(conversation: Conversation, active: Flow) -> None:
    dialog, texts = conversation.dialog, conversation.texts
    assert dialog is not None and active.unsaved is not None

    def button(label: str, value: str, color: Color) -> KeyboardButton:
        payload = {FLOW_KEY: dialog.flow, VERSION_KEY: dialog.version, VALUE_KEY: value}
        return KeyboardButton(texts(label), payload, color)

    row = [button("dialog.leave_yes", LEAVE, "negative"), button("dialog.leave_no", STAY, "positive")]
    keyboard = build_keyboard([row], inline=True)
    conversation.answer.replies.append(Reply(conversation.event.peer_id, texts(active.unsaved.warning), keyboard))


def _leave(conversation: Conversation, sent: dict[str, Any]) -> bool:
    dialog = conversation.dialog
    assert dialog is not None
    conversation.dialogs.finish(dialog)
    if sent["by"] == CANCEL:
        conversation._say(conversation.texts("dialog.cancelled"), menu=True)
        return False
    if sent["by"] == MENU:
        conversation._to_menu(None)
        return False
    conversation.event = dataclasses.replace(conversation.event, text=sent["text"], payload=sent["payload"] or None)
    return True


def _stay(conversation: Conversation, active: Flow) -> None:
    """Back to the step as it was: its data without the question, its question asked again (new buttons)."""
    dialog = conversation.dialog
    assert dialog is not None
    dialog.data = {key: value for key, value in (dialog.data or {}).items() if key != LEAVING}
    dialog.version += 1
    if not allows(conversation.member.role, active.role):
        conversation._allowed(active)  # the role was taken away meanwhile: refused, and the dialog ends
        conversation.dialogs.finish(dialog)
        return
    state = dialog.state
    ctx = conversation._context(conversation._dialog_state(active, dialog))
    conversation._drive(active, ctx, active.entry_handler(state, guarded=True))
