"""The Context: everything a flow handler may do, and nothing else.

A handler asks the context to reply, ask, move, store dialog data, read the member, reach another
person or start another flow. It never sees vk_api, a SQLAlchemy session or a thread: what it
asks for is collected here and committed by the engine together with the dialog's new state, so
a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, cast

from typing_extensions import TypeVar

from fsm_bot.delivery.effects import Edit
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import Forbidden, allows
from fsm_bot.storage.models import Role
from fsm_bot.texts import Catalogs, Texts
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.keyboards import (
    MAX_INLINE_BUTTONS,
    MAX_INLINE_ROWS,
    MAX_PER_ROW,
    Color,
    KeyboardButton,
    build_keyboard,
)
from fsm_bot.vk.payloads import COMMAND_KEY, FLOW_KEY, VALUE_KEY, VERSION_KEY

D = TypeVar("D", default=Any)  # a flow's data: its dataclass (Flow(data=...)), or the plain dict of JSON values
S = TypeVar("S", default=Any)  # what `ctx.services` is: the runtime's services object (the engine never names it)
Choice = tuple[str | int, ...]  # a structured button value: ("t", 123), ("page", 2), ("done",)
MAX_PARTS = 4
MAX_STRING = 64  # VK: a whole payload is at most 255 characters
MAX_INT = 2**31 - 1  # ids and indexes: what an INTEGER column and a VK id hold


def _part(value: object) -> bool:
    """A part a button of ours can carry: a short string, or an int in [0, MAX_INT] (not a bool)."""
    if isinstance(value, str):
        return len(value) <= MAX_STRING
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT


def _scalar(value: object) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _carried(value: str | Choice) -> str | list[str | int]:
    """How a button's value travels in its payload; a tuple a press could not give back is a bug here."""
    if isinstance(value, str):
        return value
    if not 1 <= len(value) <= MAX_PARTS or not all(_part(part) for part in value):
        raise ValueError(f"a button value is up to {MAX_PARTS} short strings or ids, not {value!r}")
    return list(value)


def way_out(texts: Texts, back: bool = True) -> list[KeyboardButton]:
    """A row of «Назад» (unless `back` is False) and «Отмена» to end a step's buttons with.

    They are text buttons labelled with the first of the global words (fsm_bot/locales, `words`), so a press
    sends the word itself and the engine answers it as typed: «отмена» ends the dialog, «назад» returns to
    the previous step, or from a first step to the menu. Every dialog step's question gets them
    (`Context.ask`), so a flow need not add them.
    """
    row = [KeyboardButton(_word(texts, "words.back"), {}, "secondary")] if back else []
    row.append(KeyboardButton(_word(texts, "words.cancel"), {}, "negative"))
    return row


def _word(texts: Texts, key: str) -> str:
    return texts.variants(key)[0].capitalize()


def with_way_out(
    rows: Sequence[Sequence[KeyboardButton]] | None, texts: Texts, back: bool = True
) -> list[list[KeyboardButton]]:
    """`rows` with the way-out buttons the flow did not put there itself, as VK's inline limits allow:
    a row of their own, else at the end of the last row; when not both fit, «Отмена» alone. A flow's own
    button labelled «Отмена» counts as the way out (it ends the dialog too); a keyboard with no room keeps
    its buttons as they are."""
    kept = [list(row) for row in rows or () if row]
    words = {key: {word.casefold() for word in texts.variants(f"words.{key}")} for key in ("back", "cancel")}
    labels = {button.label.strip().casefold() for row in kept for button in row}
    wanted = [
        button
        for button, key in zip(way_out(texts, back), ("back", "cancel")[-1 - back :], strict=True)
        if not labels & words[key]
    ]
    total = sum(len(row) for row in kept)
    for extra in (wanted, [] if labels & words["cancel"] else wanted[-1:]):
        if not extra or total + len(extra) > MAX_INLINE_BUTTONS:
            continue
        if len(kept) < MAX_INLINE_ROWS:
            return [*kept, extra]
        if len(kept[-1]) + len(extra) <= MAX_PER_ROW:
            return [*kept[:-1], kept[-1] + extra]
    return kept


@dataclass(frozen=True)
class Reply:
    """A message the engine will queue in the outbox when the event's transaction commits."""

    peer_id: int
    text: str
    keyboard: str | None = None
    attachment: str | None = None
    forward: str | None = None
    document: tuple[str, bytes] | None = None  # (file name, content): uploaded to VK, then attached


@dataclass(frozen=True)
class LaterMessage:
    """A message to send at `due_at`, saved with the dialog step that asked for it."""

    peer_id: int
    text: str
    due_at: datetime
    keyboard: str | None = None


@dataclass(frozen=True)
class Command:
    """A flow as «помощь» lists it."""

    name: str
    words: tuple[str, ...]
    description: str


@dataclass
class StepEffects:
    """What the handlers of one flow asked for during an event, for the engine to carry out: kept off the
    Context's surface, so a flow only asks (`ctx.reply`, `ctx.go`, `ctx.finish`) and never reads or unsets
    what another handler asked. The engine reads it with `effects_of(ctx)`."""

    replies: list[Reply] = field(default_factory=list)
    later: list[LaterMessage] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    snackbar: str | None = None
    trigger: str | None = None  # `ctx.go`: a transition to fire
    target_state: str | None = None  # `ctx.enter` / `ctx.ask_again`: a state to (re-)enter
    target_flow: str | None = None  # `ctx.start_flow`: hand over to another flow
    finished: bool = False
    show_menu: bool = False

    @property
    def moving(self) -> bool:
        """Whether the step already decided where the dialog goes next (the first state's question waits)."""
        return self.finished or bool(self.target_flow or self.target_state or self.trigger)


@dataclass
class DialogState:
    """The dialog as the engine hands it to a flow for one event."""

    flow: str | None
    state: str | None
    data: dict[str, Any]
    version: int
    history: list[str] = field(default_factory=list)


class Context(Generic[D, S]):
    """Given to every handler; see the module docstring for the rules. `Context[Draft, Services]`: `ctx.data`
    is a Draft and `ctx.services` a Services (flows write it shorter, flows/_context.py's `Ctx[Draft]`)."""

    def __init__(
        self,
        event: IncomingEvent,
        member: MemberInfo,
        texts: Texts,
        dialog: DialogState,
        services: S,
        commands: Callable[[MemberInfo], list[Command]],
        catalogs: Catalogs | None = None,
    ) -> None:
        self.event = event
        self.member = member
        self.t = texts
        self._catalogs = catalogs
        self.dialog = dialog
        self.services = services
        self._commands = commands
        self._effects = StepEffects()
        self._model: Any = None
        self._began_in = dialog.state  # a step entered since has somewhere to go back to

    # --- what happened

    def t_for(self, person: MemberInfo | str | None) -> Texts:
        """The texts of another person's language (a member, or a locale), for a message to them: a headman
        writing in Russian reaches an English-speaking student in English."""
        locale = person.locale if isinstance(person, MemberInfo) else person
        return self.t if self._catalogs is None else self._catalogs[locale]

    @property
    def text(self) -> str:
        return self.event.text.strip()

    @property
    def button(self) -> str | None:
        """The value of the dialog button that was pressed, if this event is a press of a plain value."""
        payload = self.event.payload or {}
        value = payload.get(VALUE_KEY)
        if payload.get(FLOW_KEY) != self.dialog.flow or not _scalar(value):
            return None
        return str(value)

    @property
    def choice(self) -> Choice | None:
        """What the pressed button of this dialog (or a command button of this flow) carries, as a tuple:
        `ctx.option(label, ("t", 123))` gives back `("t", 123)`, a plain "done" gives `("done",)`.

        None when this is no such press, or when the value is none a button of ours could carry: a
        client can send any payload, so only up to MAX_PARTS strings (MAX_STRING characters at most)
        and non-negative ints up to MAX_INT pass, and a flow matches on the shape without parsing.
        """
        payload = self.event.payload or {}
        if payload.get(FLOW_KEY) != self.dialog.flow and payload.get(COMMAND_KEY) != self.dialog.flow:
            return None
        value = payload.get(VALUE_KEY)
        parts = value if isinstance(value, list) else [value]
        if not 1 <= len(parts) <= MAX_PARTS or not all(_part(part) for part in parts):
            return None
        return tuple(parts)

    @property
    def value(self) -> str:
        """The value a command button carried (a broadcast's id on «Ознакомлен», a period on a report's
        button), "" when there was none: what a flow started by a button reads instead of the payload."""
        payload = self.event.payload or {}
        value = payload.get(VALUE_KEY) if COMMAND_KEY in payload else None
        return str(value) if _scalar(value) else ""

    @property
    def data(self) -> D:
        """Dialog data, saved with the state: the flow's dataclass if it declares one (Flow(data=...)),
        otherwise a dict; JSON-able values only either way."""
        return cast(D, self._model if self._model is not None else self.dialog.data)

    def use_model(self, model: type[Any]) -> None:
        """For the engine: read the dialog's JSON into the flow's dataclass (once per event); fields the
        JSON lacks take their defaults, keys the class no longer has are dropped."""
        if type(self._model) is not model:
            names = {item.name for item in dataclasses.fields(model)}
            self._model = model(**{key: value for key, value in self.dialog.data.items() if key in names})

    def store_model(self) -> None:
        """For the engine: write the dataclass back as the JSON the dialog row keeps."""
        if self._model is not None:
            self.dialog.data = dataclasses.asdict(self._model)

    @property
    def state(self) -> str | None:
        return self.dialog.state

    # --- answering

    def reply(
        self,
        text: str,
        buttons: Sequence[Sequence[KeyboardButton]] | None = None,
        *,
        inline: bool = True,
        keyboard: str | None = None,
        attachment: str | None = None,
        forward: str | None = None,
    ) -> None:
        """A message to the person; `keyboard` takes ready VK keyboard JSON instead of `buttons`."""
        if buttons:
            keyboard = build_keyboard(buttons, inline=inline)
        self._effects.replies.append(Reply(self.event.peer_id, text, keyboard, attachment, forward))

    def ask(self, text: str, buttons: Sequence[Sequence[KeyboardButton]] | None = None) -> None:
        """The question of a dialog step, with its buttons under the message, and «Назад» «Отмена» under
        them (`with_way_out`) unless the flow put them there."""
        self.reply(text, self._way_out(buttons))

    def _way_out(self, buttons: Sequence[Sequence[KeyboardButton]] | None) -> Sequence[Sequence[KeyboardButton]] | None:
        """A dialog step's buttons with the way out; a newcomer's first step of registration has no «Назад»:
        there is no menu before it, «назад» only asks again."""
        if self.dialog.state is None:
            return buttons  # not a dialog: a command's answer
        back = self.member.onboarded or bool(self.dialog.history) or self.dialog.state != self._began_in
        return with_way_out(buttons, self.t, back)

    def update(self, text: str, buttons: Sequence[Sequence[KeyboardButton]] | None = None) -> None:
        """Change the message whose callback button was pressed (a toggle, the next page) instead of
        sending a new one; for a typed message, send it anew."""
        cmid = self.event.conversation_message_id
        buttons = self._way_out(buttons)
        if self.event.type == "message_event" and cmid:
            keyboard = build_keyboard(buttons, inline=True) if buttons else None
            self._effects.edits.append(Edit(self.event.peer_id, cmid, text, keyboard))
        else:
            self.reply(text, buttons)

    def option(
        self, label: str, value: str | Choice, color: Color = "secondary", callback: bool = False
    ) -> KeyboardButton:
        """A dialog button: pressing it answers the current step with `value` (see `ctx.button`, `ctx.choice`);
        a tuple such as ("t", 123) travels as a JSON list and comes back as the same tuple.

        It carries the dialog's version, so a press on it after the dialog moved on (an old
        message, a double click) is refused as outdated instead of acting twice.
        """
        payload = {FLOW_KEY: self.dialog.flow, VERSION_KEY: self.dialog.version, VALUE_KEY: _carried(value)}
        return KeyboardButton(label, payload, color, callback)

    def send_to(
        self,
        vk_id: int,
        text: str,
        buttons: Sequence[Sequence[KeyboardButton]] | None = None,
        *,
        attachment: str | None = None,
    ) -> None:
        """A message to another person (a headman asked to approve, a student told the answer); `attachment`:
        VK attachment strings carried on (an assignment's files)."""
        keyboard = build_keyboard(buttons, inline=True) if buttons else None
        self._effects.replies.append(Reply(vk_id, text, keyboard, attachment))

    def send_document(self, file_name: str, content: bytes, text: str = "") -> None:
        """Send a file (a calendar, a register) to this person as a VK document.

        The file is stored with the reply and uploaded after the commit, so a crash in between
        leaves it waiting in the outbox, not lost.
        """
        self._effects.replies.append(Reply(self.event.peer_id, text, document=(file_name, content)))

    def command_button(
        self,
        label: str,
        flow: str,
        value: str | Choice | None = None,
        color: Color = "primary",
        callback: bool = False,
    ) -> KeyboardButton:
        """A button that starts `flow` (for messages sent to other people, outside any dialog); that flow
        reads `value` as `ctx.value` (a plain string) or `ctx.choice` (a tuple). A `callback` one sends no
        message: the flow can answer by changing the pressed message (`ctx.update`)."""
        payload: dict[str, Any] = {COMMAND_KEY: flow}
        if value is not None:
            payload[VALUE_KEY] = _carried(value)
        return KeyboardButton(label, payload, color, callback)

    def schedule_message(self, vk_id: int, text: str, at: datetime) -> None:
        """Send `text` to `vk_id` at `at` (aware datetime): reminders, nudges, digests.

        Stored with this step's state; a restart in between neither loses nor repeats it.
        """
        if at.tzinfo is None:
            raise ValueError("schedule_message needs an aware datetime (datetime.now(UTC) + ...)")
        self._effects.later.append(LaterMessage(vk_id, text, at))

    def snackbar(self, text: str) -> None:
        """The short pop-up answer to a callback button press."""
        self._effects.snackbar = text

    # --- moving through the dialog

    def go(self, trigger: str) -> None:
        """Fire a transition of the current flow; the destination's question is asked."""
        self._effects.trigger = trigger

    def enter(self, state: str) -> None:
        """Jump to a state directly, outside the table (prefer a declared Transition and `go`: the diagram
        shows those)."""
        self._effects.target_state = state

    def ask_again(self, note: str | None = None) -> None:
        """The answer is of no use to this step: say `note` if given, then ask the step's question again.

        No transition and no new version: the step's buttons stay valid, and «назад» still returns to
        where it did.
        """
        if note:
            self.reply(note)
        if self.dialog.state is None:
            raise ValueError("ask_again outside a dialog")
        self._effects.target_state = self.dialog.state

    def finish(self, text: str | None = None) -> None:
        """End the dialog and show the main menu, with an optional last word."""
        if text:
            self.reply(text)
        self._effects.finished = True
        self._effects.show_menu = True

    def start_flow(self, name: str) -> None:
        """End this flow and start `name` in the same event (a menu of actions hands over to one of them)."""
        self._effects.target_flow = name

    def require(self, role: Role) -> None:
        """Refuse this step unless the member has `role` (or above)."""
        if not allows(self.member.role, role):
            raise Forbidden(role)

    def commands(self) -> list[Command]:
        """The commands this member may use now, for «помощь»."""
        return self._commands(self.member)


def effects_of(ctx: Context[Any, Any]) -> StepEffects:
    """For the engine (and a test of one step): what the flow's handlers asked for so far."""
    return ctx._effects
