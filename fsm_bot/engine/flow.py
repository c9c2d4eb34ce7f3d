"""A flow: one dialog, declared as a table of states and transitions plus small handlers.

    survey = Flow("survey", triggers=["опрос"], description="survey.description", role=Role.STUDENT,
                  states=["name", "confirm"],
                  transitions=[Transition("named", "name", "confirm"), Transition("edit", "confirm", "name")])

    @survey.asks("name")            # entering a state: ask its question
    def ask_name(ctx): ctx.ask(ctx.t("survey.ask_name"))

    @survey.receives("name")        # the person answered while in that state
    def got_name(ctx): ctx.data["name"] = ctx.text; ctx.go("named")

The table becomes one `transitions.Machine` per flow, built once and shared by every user: a
user's dialog row is the model only for the duration of one event (transitions lets an
unregistered model be driven through `machine.events[name].trigger(model)`), so no per-user
object outlives the event, and 100,000 members cost nothing in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from transitions import Machine, State
from transitions.core import EventData

from fsm_bot.storage.models import Role

if TYPE_CHECKING:
    from fsm_bot.engine.context import Context

Handler = Callable[["Context"], None]
Condition = Callable[["Context"], bool]

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
    _entry: dict[str, Handler] = field(default_factory=dict, repr=False)
    _input: dict[str, Handler] = field(default_factory=dict, repr=False)
    _start: Handler | None = field(default=None, repr=False)
    _machine: Machine | None = field(default=None, repr=False)

    # --- declaring handlers

    def on_start(self, handler: Handler) -> Handler:
        """Runs when the flow is triggered; usually sets data and calls `ctx.go` or `ctx.enter`."""
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
        return self._start

    def input_handler(self, state: str) -> Handler | None:
        return self._input.get(state)

    def entry_handler(self, state: str) -> Handler | None:
        return self._entry.get(state)

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
                "conditions": [_condition(transition.when)] if transition.when else [],
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
            handler = self._entry.get(state)
            if handler is not None:
                handler(event.model.context)

        return entered

    def fire(self, trigger: str, state: str, context: Context) -> str:
        """Run `trigger` from `state`; returns the new state (the same one if a condition said no)."""
        model = _DialogModel(state, context)
        event = self.machine.events.get(trigger)
        if event is None:
            raise ValueError(f"flow {self.name!r} has no trigger {trigger!r}")
        event.trigger(model)
        return model.state

    def triggers_from(self, state: str) -> list[str]:
        return list(self.machine.get_triggers(state))

    def mermaid(self) -> str:
        """The flow's diagram, from the same table the engine runs."""
        from transitions.extensions.diagrams import GraphMachine

        holder = _DialogModel(self.first_state or START_STATE, None)  # type: ignore[arg-type]
        machine = self._build_machine(GraphMachine, graph_engine="mermaid", title=self.name)
        machine.add_model(holder)
        source = str(holder.get_graph().draw(None))  # type: ignore[attr-defined]
        # transitions writes a bare title between '---' lines (not valid Mermaid front matter) and
        # colours the model's current state; neither belongs in documentation.
        body = source.split("---", 2)[-1]
        lines = [
            line for line in body.splitlines() if line.strip() and not line.lstrip().startswith(("classDef", "Class "))
        ]
        return "\n".join([f"---\ntitle: {self.name}\n---", *lines])


def _condition(when: Condition) -> Callable[[EventData], bool]:
    def check(event: EventData) -> bool:
        return bool(when(event.model.context))

    return check
