"""A flow: one dialog, declared as a table of states and transitions plus small handlers.

    survey = Flow("survey", triggers=["опрос"], description="survey.description", role=Role.STUDENT,
                  states=["name", "confirm"],
                  transitions=[Transition("named", "name", "confirm"), Transition("edit", "confirm", "name")])

    @survey.asks("name")            # entering a state: ask its question
    def ask_name(ctx): ctx.ask(ctx.t("survey.ask_name"))

    @survey.receives("name")        # the person answered while in that state
    def got_name(ctx): ctx.data["name"] = ctx.text; ctx.go("named")

A dialog starts at its first state; `on_start` is for setting data up first. A flow that needs more
than a role (a study group, a loaded timetable) says so with `needs=[...]`: guards the engine checks
before the start, each answering None or the catalog key of its refusal. An answer a step cannot use
is met with `ctx.ask_again(note)`, which is no transition; every move is a declared Transition, so
the Mermaid diagram drawn from the table shows every edge the dialog can take.

The table becomes one `transitions.Machine` per flow, built once and shared by every user: a
user's dialog row is the model only for the duration of one event (transitions lets an
unregistered model be driven through `machine.events[name].trigger(model)`), so no per-user
object outlives the event, and 100,000 members cost nothing in memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from transitions import Machine, State
from transitions.core import EventData

from fsm_bot.engine.context import Context, effects_of
from fsm_bot.members.info import MemberInfo
from fsm_bot.storage.models import Role

Handler = Callable[["Context"], None]
Condition = Callable[["Context"], bool]
Guard = Callable[["Context"], "str | None"]  # None: go ahead; otherwise the catalog key of the refusal

DEFAULT_TIMEOUT = timedelta(minutes=30)
START_STATE = "start"


@dataclass(frozen=True)
class Transition:
    """`trigger` moves a dialog from `source` to `dest`, if `when` (given the context) agrees."""

    trigger: str
    source: str | Sequence[str]
    dest: str
    when: Condition | None = None


class _DialogModel:
    """What transitions drives for one event: the context's dialog, seen through `state`.

    transitions sets `model.state` before it runs the destination's on_enter callbacks, so the
    state is written straight through to the dialog: the entry handler already sees where it is.
    """

    def __init__(self, state: str, context: Context | None) -> None:
        self._state = state
        self.context = context

    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        changed = value != self._state
        self._state = value
        if self.context is not None:
            self.context.dialog.state = value
            if changed:  # buttons of the step left behind must no longer match (see Conversation)
                self.context.dialog.version += 1


def _context_of(event: EventData) -> Context:
    """The context of the event's dialog: transitions types `event.model` as object, and a callback only ever runs
    for the `_DialogModel` that `Flow.fire` made with a context."""
    model = event.model
    if not isinstance(model, _DialogModel) or model.context is None:
        raise TypeError(f"a flow callback ran without a dialog's context: {model!r}")
    return model.context


@dataclass(frozen=True)
class Need:
    """A guard made of a yes/no check and the catalog key said when it is no.

    `of_member` is the same check when it reads nothing but the member (a study group): the main menu then
    leaves the flow out for whoever lacks it, instead of offering a button that only refuses (engine/menu.py).
    """

    check: Condition
    refusal: str
    of_member: Callable[[MemberInfo], bool] | None = None

    def __call__(self, ctx: Context) -> str | None:
        return None if self.check(ctx) else self.refusal


def member_need(check: Callable[[MemberInfo], bool], refusal: str) -> Need:
    """A need the member alone answers, so the menu can tell it too."""
    return Need(lambda ctx: check(ctx.member), refusal, check)


def in_study_group(refusal: str) -> Need:
    """The member belongs to a study group (timetable, register, reminders are per group)."""
    return member_need(lambda member: member.study_group is not None, refusal)


@dataclass(frozen=True)
class Unsaved:
    """Work a dialog holds that leaving it would lose: in `states` (in any when none are named), while `when`,
    given the dialog's data as saved (JSON), agrees. `warning`: the catalog key of the question asked first,
    «Черновик рассылки будет удалён. Выйти?» (engine/leaving.py)."""

    warning: str
    states: Sequence[str] = ()
    when: Callable[[dict[str, Any]], bool] | None = None

    def held(self, state: str, data: dict[str, Any]) -> bool:
        return (not self.states or state in self.states) and (self.when is None or bool(self.when(data)))


@dataclass
class Flow:
    """One dialog's declaration. `role` is checked at the start and again at every step."""

    name: str
    description: str  # a text key, shown by «помощь»
    triggers: Sequence[str] = ()  # words that start it (matched case-insensitively, whole message)
    role: Role = Role.STUDENT
    states: Sequence[str] = ()
    transitions: Sequence[Transition] = ()
    timeout: timedelta = DEFAULT_TIMEOUT
    open_to_newcomers: bool = False  # usable before onboarding is finished (help, onboarding itself)
    in_menu: bool = True  # a button in the main menu of those allowed to use it
    menu_label: str | None = None  # a text key for that button; defaults to `<name>.button`
    needs: Sequence[Guard] = ()  # checked before the start, after the role; see the module docstring
    data: type[Any] | None = None  # a dataclass of JSON values: `ctx.data` is one (see Context.data)
    # The first state's answer may come with the trigger (the seed's one-shot form): `.mb Завтра пар нет`
    # starts the dialog and hands it «Завтра пар нет» as that answer (registry.with_text, Conversation._start).
    takes_text: bool = False
    # Extensions ("yaml", "ics") of a document that is this flow's first answer: sent with no dialog open
    # (outside group chats) it starts the flow, and sent with a trigger it answers the first question.
    takes_documents: Sequence[str] = ()
    # Started when someone adds the community to a group chat (VK's chat_invite_user service message), as
    # the inviter in that chat: at most one flow may say so.
    starts_when_invited: bool = False
    # Work a person would lose by leaving (a draft): «отмена», «меню» or another flow asks first (engine/leaving.py).
    unsaved: Unsaved | None = None
    _entry: dict[str, Handler] = field(default_factory=dict, repr=False)
    _input: dict[str, Handler] = field(default_factory=dict, repr=False)
    _start: Handler | None = field(default=None, repr=False)
    _machine: Machine | None = field(default=None, repr=False)

    # --- declaring handlers

    def on_start(self, handler: Handler) -> Handler:
        """Runs when the flow is triggered, after its `needs`: a command's whole work, or a dialog's set-up
        (its first state's question is asked next unless the handler finished or moved)."""
        self._start = handler
        return handler

    def asks(self, state: str) -> Callable[[Handler], Handler]:
        """Runs on entering `state` (also when «назад» returns to it): ask that step's question."""

        def register(handler: Handler) -> Handler:
            self._check_state(state)
            self._entry[state] = handler
            return handler

        return register

    def receives(self, state: str) -> Callable[[Handler], Handler]:
        """Runs when the person sends a message or presses a button while in `state`."""

        def register(handler: Handler) -> Handler:
            self._check_state(state)
            self._input[state] = handler
            return handler

        return register

    def __post_init__(self) -> None:
        if self.data is not None and not dataclasses.is_dataclass(self.data):
            raise TypeError(f"flow {self.name!r}: data must be a dataclass, not {self.data!r}")

    def _check_state(self, state: str) -> None:
        if state not in self.states:
            raise ValueError(f"flow {self.name!r} has no state {state!r}")

    # --- what the engine uses

    @property
    def is_dialog(self) -> bool:
        return bool(self.states)

    @property
    def first_state(self) -> str | None:
        return self.states[0] if self.states else None

    def has_state(self, state: str) -> bool:
        return state in self.states

    def start_handler(self) -> Handler | None:
        """What the engine runs when the flow is triggered: the guards, the start handler, the first question."""
        if not self.needs and self._start is None:
            return self._typed(self._entry.get(self.first_state or "")) if self.data else None
        return self._typed(self._begin)

    def _refused(self, ctx: Context) -> bool:
        """Whether a guard said no; if so, the person is told why and a dialog ends."""
        for guard in self.needs:
            refusal = guard(ctx)
            if refusal is not None:
                # A dialog ends (its row was opened for the start) and shows the menu; a command just answers.
                ctx.finish(ctx.t(refusal)) if self.is_dialog else ctx.reply(ctx.t(refusal))
                return True
        return False

    def _begin(self, ctx: Context) -> None:
        if self._refused(ctx):
            return
        if self._start is not None:
            self._start(ctx)
            if effects_of(ctx).moving:
                return
        entry = self._entry.get(self.first_state or "")
        if entry is not None:
            entry(ctx)

    def input_handler(self, state: str) -> Handler | None:
        """The answer's handler, behind the guards again: like the role, what a flow needs can be lost
        mid-dialog (a member moved out of the group by its headman)."""
        return self._guarded(self._input.get(state))

    def entry_handler(self, state: str, guarded: bool = False) -> Handler | None:
        """The question of `state`; `guarded` when no handler of this flow ran before it in this event
        («назад», a question asked again), so the guards are checked first as for an answer."""
        handler = self._entry.get(state)
        return self._guarded(handler) if guarded else self._typed(handler)

    def _guarded(self, handler: Handler | None) -> Handler | None:
        if handler is None or not self.needs:
            return self._typed(handler)
        unguarded = handler

        def guarded(ctx: Context) -> None:
            if not self._refused(ctx):
                unguarded(ctx)

        return self._typed(guarded)

    def _typed(self, handler: Handler | None) -> Handler | None:
        """`handler` with the flow's data as its dataclass: read from the dialog's JSON before, written
        back after, so the engine saves plain JSON and the handler sees attributes with types."""
        model = self.data
        if handler is None or model is None:
            return handler

        def run(ctx: Context) -> None:
            ctx.use_model(model)
            try:
                handler(ctx)
            finally:
                ctx.store_model()

        return run

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            self._machine = self._build_machine()
        return self._machine

    def _build_machine(self, machine_class: type[Machine] = Machine, **options: Any) -> Machine:
        states = [State(name, on_enter=[self._enter_callback(name)]) for name in self.states]
        transitions = [
            {
                "trigger": transition.trigger,
                "source": list(transition.source) if not isinstance(transition.source, str) else transition.source,
                "dest": transition.dest,
                "conditions": [self._condition(transition.when)] if transition.when else [],
            }
            for transition in self.transitions
        ]
        return machine_class(
            model=None,
            states=states or [START_STATE],
            transitions=transitions,
            initial=self.first_state or START_STATE,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
            **options,
        )

    def _enter_callback(self, state: str) -> Callable[[EventData], None]:
        def entered(event: EventData) -> None:
            handler = self.entry_handler(state)
            if handler is not None:
                handler(_context_of(event))

        return entered

    def _condition(self, when: Condition) -> Callable[[EventData], bool]:
        def check(event: EventData) -> bool:
            context = _context_of(event)
            if self.data is not None:
                context.use_model(self.data)
            return bool(when(context))

        return check

    def fire(self, trigger: str, state: str, context: Context) -> str:
        """Run `trigger` from `state`; returns the new state (the same one if a condition said no)."""
        model = _DialogModel(state, context)
        event = self.machine.events.get(trigger)
        if event is None:
            raise ValueError(f"flow {self.name!r} has no trigger {trigger!r}")
        event.trigger(model)
        return model.state

    def mermaid(self) -> str:
        """The flow's diagram, from the same table the engine runs."""
        from transitions.extensions.diagrams import GraphMachine

        holder = _DialogModel(self.first_state or START_STATE, None)
        machine = self._build_machine(GraphMachine, graph_engine="mermaid", title=self.name)
        machine.add_model(holder)
        source = str(holder.get_graph().draw(None))  # type: ignore[attr-defined,unused-ignore]  # GraphMachine adds it
        # transitions writes a bare title between '---' lines (not valid Mermaid front matter) and
        # colours the model's current state; neither belongs in documentation.
        body = source.split("---", 2)[-1]
        lines = [
            line for line in body.splitlines() if line.strip() and not line.lstrip().startswith(("classDef", "Class "))
        ]
        return "\n".join([f"---\ntitle: {self.name}\n---", *lines])
