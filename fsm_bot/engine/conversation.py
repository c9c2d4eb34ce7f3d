"""Running one message or button press through its flow (DESIGN.md, "Life of an event", 3-5).

The route comes from routing.py (a pure decision); this module carries it out: privileges checked at
the start and at every step, the flow run against a Context, its transitions fired through the flow's
machine. saving.py then writes the dialog's new step and the replies, in the transaction the
EventHandler opened for this event.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from fsm_bot.engine import leaving
from fsm_bot.engine.context import Command, Context, DialogState, effects_of
from fsm_bot.engine.flow import Flow, Handler
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.routing import GlobalWords, Route, route
from fsm_bot.engine.saving import Answer, Handled, save_step
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import Forbidden, allows
from fsm_bot.storage.models import Dialog, Member, Role
from fsm_bot.storage.repositories import DialogRepository
from fsm_bot.storage.repositories.dialogs import IDLE
from fsm_bot.storage.repositories.members import MemberAtHand
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs, locale_of_lang_id
from fsm_bot.vk.events import IncomingEvent

log = logging.getLogger(__name__)

MAX_CHAINED_STEPS = 20  # a flow whose entry handlers keep firing triggers is a bug; stop it
ONBOARDING_FLOW = "onboarding"


class FlowServices(Protocol):
    """What the engine needs of the object flows get as `ctx.services` (the features are not the engine's):
    whether the event changed what reminders are due, to plan them again after the commit."""

    @property
    def timetable_changed(self) -> bool: ...


ServicesFactory = Callable[[Session, MemberInfo], FlowServices]


class Engine(Protocol):
    """What a conversation needs from the engine that runs it (the EventHandler)."""

    community_id: int
    registry: FlowRegistry
    catalogs: Catalogs
    services: ServicesFactory
    words: GlobalWords

    def timeout_for(self, flow: Flow) -> timedelta: ...

    def menu_for(self, member: MemberInfo, in_chat: bool = False) -> str | None: ...

    def commands_for(self, member: MemberInfo) -> list[Command]: ...

    def member_info(self, session: Session, member: Member) -> MemberInfo: ...


class Conversation:
    """One message or button press of one person: routing, then the flow, then saving."""

    def __init__(self, handler: Engine, session: Session, event: IncomingEvent, at_hand: MemberAtHand) -> None:
        """`at_hand`: the person's member, group and (locked) dialog rows, read in one query by the handler."""
        self.handler = handler
        self.session = session
        self.event = event
        self.member_row = at_hand.member
        # Held so the group's row stays in the session's (weak) identity map: the menu's look at the
        # member again (_attach_menu) then finds the group's name there, unless a step moved them.
        self._group = at_hand.group
        app_locale = locale_of_lang_id(event.lang_id)
        if app_locale is not None and app_locale != at_hand.member.app_locale:
            at_hand.member.app_locale = app_locale  # their app's language now: reminders follow it too
        self.member = handler.member_info(session, at_hand.member)
        self.texts = handler.catalogs[self.member.locale]
        self.dialogs = DialogRepository(session, handler.community_id)
        self.dialog = at_hand.dialog
        self.answer = Answer(event)
        self._services: list[FlowServices] = []
        self._was_reset = False

    # --- routing

    def run(self) -> Handled:
        active = self._active_flow()
        if self._was_reset:
            return self._finish()  # the message was meant for the dialog that no longer exists
        if active is not None and leaving.is_asking(self.dialog):  # «Выйти?» waits for its answer
            if not leaving.answer(self, active):
                return self._finish()
            active = None  # they left: what they had sent before the question runs now
        routed = route(
            self.event, self.dialog, active, self.handler.words, self.handler.registry, self.member.onboarded
        )
        if active is not None and (by := leaving.leaves_work(self, routed, active)):
            leaving.ask(self, active, by)
            return self._finish()
        kind, flow = routed.route, routed.flow
        if kind is Route.STEP and flow is not None:
            self._step(flow)
        elif kind is Route.STALE:
            self.answer.say_or_snackbar(self.texts("errors.stale_button"))
        elif kind is Route.CANCEL:
            self._cancel(flow)
        elif kind is Route.BACK and flow is not None:
            self._back(flow)
        elif kind is Route.MENU:
            self._to_menu(flow)
        elif kind is Route.COMMAND and flow is None:
            log.warning("member %d sent a payload for unknown flow %r", self.event.user_id, routed.command[:64])
            self._say(self.texts("errors.unknown_command"), menu=True)
        elif kind in (Route.COMMAND, Route.START) and flow is not None:
            self._start(flow, rest=routed.rest, document=routed.document)
        elif kind is Route.NEWCOMER:
            self._start_onboarding_or_wait()
        elif kind is Route.UNKNOWN and self.dialog is None:
            self._say(self.texts("menu.title"), menu=True)  # first contact (a «привет»): the menu, not a rebuke
        elif kind is Route.UNKNOWN:
            self._say(self.texts("errors.unknown_command"), menu=True)
        # Route.CHAT_TALK: in a group chat only commands are for the bot; the rest is people talking
        return self._finish()

    def _active_flow(self) -> Flow | None:
        if self.dialog is None or self.dialog.flow == IDLE:
            return None
        flow = self.handler.registry.get(self.dialog.flow)
        if flow is None or not flow.has_state(self.dialog.state):
            # An upgrade removed the flow or the state: reset politely instead of crashing.
            log.warning(
                "dialog %s/%s of %d reset: no longer exists", self.dialog.flow, self.dialog.state, self.event.user_id
            )
            self.dialogs.finish(self.dialog)
            self._say(self.texts("dialog.reset_after_upgrade"), menu=True)
            self._was_reset = True
            return None
        return flow

    # --- global words

    def _cancel(self, active: Flow | None) -> None:
        if active is None or self.dialog is None:
            self._say(self.texts("dialog.nothing_to_cancel"), menu=True)
            return
        self.dialogs.finish(self.dialog)
        self._say(self.texts("dialog.cancelled"), menu=True)

    def _back(self, active: Flow) -> None:
        assert self.dialog is not None
        if not allows(self.member.role, active.role):
            # «назад» asks a step's question again (a headman's list of the group): checked like a step.
            self._allowed(active)
            self.dialogs.finish(self.dialog)
            return
        history = list(self.dialog.data.get("_history", []))
        if not history:
            self._to_menu(active)  # a first step's screen before it was the menu
            return
        previous = history.pop()
        ctx = self._context(self._dialog_state(active, self.dialog))
        ctx.dialog.history = history
        ctx.dialog.state = previous
        ctx.dialog.version += 1
        self._drive(active, ctx, active.entry_handler(previous, guarded=True))

    def _to_menu(self, active: Flow | None) -> None:
        if active is not None and self.dialog is not None:
            self.dialogs.finish(self.dialog)
        if not self.member.onboarded:
            self._start_onboarding_or_wait()
            return
        self._say(self.texts("menu.title"), menu=True)

    # --- flows

    def _allowed(self, flow: Flow) -> bool:
        if not allows(self.member.role, flow.role):
            log.warning(
                "refused %s to member %d (role %s): needs %s",
                flow.name,
                self.event.user_id,
                self.member.role.value,
                flow.role.value,
            )
            self._refuse(flow.role)
            return False
        if not self.member.onboarded and not flow.open_to_newcomers:
            self._start_onboarding_or_wait()
            return False
        return True

    def _refuse(self, required: Role) -> None:
        self.answer.say_or_snackbar(self.texts("errors.forbidden", role_name=self.texts(f"roles.{required.value}")))

    def _start_onboarding_or_wait(self) -> None:
        if self.member.status == "pending":
            self._say(self.texts("errors.pending_approval", group=self.member.study_group or ""))
            return
        flow = self.handler.registry.get(ONBOARDING_FLOW)
        if flow is None:
            self._say(self.texts("errors.unknown_command"))
            return
        self._start(flow, gate=False)

    def _start(self, flow: Flow, gate: bool = True, rest: str = "", document: bool = False) -> None:
        """Start `flow`; `rest` (the text after its trigger), or the message itself when it brought the flow's
        `document`, is then its first state's answer."""
        if gate and not self._allowed(flow):
            return
        asked = len(self.answer.replies)
        if flow.is_dialog:
            self.dialog = self.dialogs.begin(
                self.dialog,
                self.event.peer_id,
                self.event.user_id,
                flow.name,
                flow.first_state or "",
                {},
                utcnow() + self.handler.timeout_for(flow),
            )
        elif self.dialog is not None and self.dialog.flow != IDLE:
            self.dialogs.finish(self.dialog)
        ctx = self._context(self._dialog_state(flow, self.dialog if flow.is_dialog else None))
        start = flow.start_handler()
        if start is None and flow.is_dialog:
            start = flow.entry_handler(flow.first_state or "")
        self._drive(flow, ctx, start)
        waiting = self.dialog is not None and self.dialog.flow == flow.name and self.dialog.state == flow.first_state
        if (rest or document) and waiting:
            # The message already answers the first question: asking it would only be noise.
            del self.answer.replies[asked:]
            if rest:
                self.event = dataclasses.replace(self.event, text=rest)
            self._step(flow)

    def _step(self, flow: Flow) -> None:
        assert self.dialog is not None
        if not allows(self.member.role, flow.role):
            # The role was taken away mid-dialog, or the payload was forged: refuse and end it.
            self._allowed(flow)
            self.dialogs.finish(self.dialog)
            return
        ctx = self._context(self._dialog_state(flow, self.dialog))
        handler = flow.input_handler(self.dialog.state)
        if handler is None:
            entry = flow.entry_handler(self.dialog.state, guarded=True)
            self._drive(flow, ctx, entry)  # nothing to receive here: ask the step's question again
            return
        self._drive(flow, ctx, handler)

    def _dialog_state(self, flow: Flow, dialog: Dialog | None) -> DialogState:
        """The dialog for this event.

        Its version grows whenever the dialog moves to another step (and when it starts or ends),
        so a button from an earlier step, or a second press of a button that moved the dialog on,
        no longer matches; buttons of the current step stay usable however often the person writes.
        """
        if dialog is None:
            return DialogState(flow.name, None, {}, 0)
        # A deep copy: a flow appends to lists inside the data, and a change made in place to the
        # loaded value would look to SQLAlchemy like no change at all, so it would not be saved.
        data = copy.deepcopy(dialog.data or {})
        history = list(data.pop("_history", []))
        return DialogState(flow.name, dialog.state or None, data, dialog.version, history)

    def _context(self, state: DialogState) -> Context:
        services = self.handler.services(self.session, self.member)
        self._services.append(services)
        return Context(
            self.event, self.member, self.texts, state, services, self.handler.commands_for, self.handler.catalogs
        )

    def _drive(self, flow: Flow, ctx: Context, first: Handler | None) -> None:
        effects = effects_of(ctx)
        try:
            if first is not None:
                first(ctx)
            for _ in range(MAX_CHAINED_STEPS):
                if effects.finished or effects.target_flow:
                    break
                if effects.target_state is not None:
                    target, effects.target_state = effects.target_state, None
                    if not flow.has_state(target):
                        raise ValueError(f"flow {flow.name!r} has no state {target!r}")
                    if ctx.dialog.state and ctx.dialog.state != target:
                        ctx.dialog.history.append(ctx.dialog.state)
                        ctx.dialog.version += 1
                    ctx.dialog.state = target
                    entry = flow.entry_handler(target)
                    if entry is not None:
                        entry(ctx)
                    continue
                if effects.trigger is not None:
                    trigger, effects.trigger = effects.trigger, None
                    before = ctx.dialog.state or ""
                    after = flow.fire(trigger, before, ctx)
                    if after != before:
                        ctx.dialog.history.append(before)
                    continue
                break
            else:
                raise RuntimeError(f"flow {flow.name!r} chained more than {MAX_CHAINED_STEPS} steps")
        except Forbidden as refusal:
            log.warning("refused a step of %s to member %d: %s", flow.name, self.event.user_id, refusal)
            self._refuse(refusal.required)
            effects.replies.clear()
            return
        self._save(flow, ctx)

    def _save(self, flow: Flow, ctx: Context) -> None:
        effects = effects_of(ctx)
        self.answer.take(effects)
        dialog = self.dialog if flow.is_dialog else None
        save_step(self.session, self.handler.community_id, self.dialogs, dialog, ctx, self.handler.timeout_for(flow))
        if effects.show_menu:
            self._attach_menu()
        if effects.target_flow:
            target = self.handler.registry.get(effects.target_flow)
            if target is None:
                raise LookupError(f"flow {effects.target_flow!r} is not enabled")
            self.member = self.handler.member_info(self.session, self.member_row)
            self._start(target)

    # --- replies

    def _say(self, text: str, menu: bool = False) -> None:
        self.answer.say(text)
        if menu:
            self._attach_menu()

    def _attach_menu(self) -> None:
        self.member = self.handler.member_info(self.session, self.member_row)
        self.texts = self.handler.catalogs[self.member.locale]  # a step may have changed their language
        keyboard = self.handler.menu_for(self.member, self.event.in_chat)
        if keyboard is not None:
            self.answer.attach_menu(keyboard, self.texts("menu.title"))

    def _finish(self) -> Handled:
        replan = any(services.timetable_changed for services in self._services)
        return self.answer.queue(self.session, self.handler.community_id, replan)
