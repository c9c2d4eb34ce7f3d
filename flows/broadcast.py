"""«рассылка»: the headman's message to every student personally, with «Ознакомлен» under it.

compose (one or more messages, «Готово») -> audience -> [pick students] -> options -> confirm
(a preview exactly as students will see it, the count, who cannot receive it) -> sent. What the
headman sent is carried over intact: attachments with their access keys, forwards by forwarding
the headman's own message. «рассылка админам» goes straight to the admins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Texts, Transition, Unsaved
from fsm_bot.engine.widgets import Item, PagedMultiSelect, Toggled, way_out
from fsm_bot.services.broadcasts import Recipient, message_parts, preview_parts

MAX_PARTS = 10
MAX_SUBGROUP = 99
PEOPLE = PagedMultiSelect(marks=("✅ ", "▫️ "), search="query")  # 6 to a page (widgets.MAX_PAGE_SIZE)


@dataclass
class Draft:
    """The broadcast being prepared: what, to whom, how. Saved with the dialog as JSON at every step."""

    parts: list[dict[str, Any]] = field(default_factory=list)  # services.broadcasts.message_parts
    rewrite: bool = False  # «Изменить текст» pressed: the next message replaces the parts (see _add_parts)
    audience: str = ""  # group, subgroup, chosen, stream or admins; "" until chosen
    label: str = ""  # the audience as the preview and the report name it
    subgroup: int | None = None
    chosen: list[int] = field(default_factory=list)  # vk ids picked one by one
    page: int = 0  # of the people to pick from
    query: str = ""  # a surname typed to search them
    ask_ack: bool = True  # «✅ Ознакомлен» under the message
    pin: bool = False  # also post it in the group's chat


flow = Flow(
    name="broadcast",
    description="broadcast.description",
    role=Role.DEPUTY,
    takes_text=True,  # `.mb Завтра пар нет`: the text is the first part
    states=["compose", "audience", "pick", "options", "confirm"],
    transitions=[
        Transition("composed", "compose", "audience", when=lambda ctx: not ctx.data.audience),
        Transition("composed", "compose", "options"),
        Transition("pick_people", "audience", "pick"),
        Transition("chosen", ["audience", "pick"], "options"),
        Transition("ready", "options", "confirm"),
        Transition("edit", "confirm", "compose"),
        Transition("recipients", "confirm", "audience"),
    ],
    data=Draft,
    unsaved=Unsaved("broadcast.leave_warning", when=lambda data: bool(data.get("parts"))),
)


@flow.on_start
def begin(ctx: Ctx[Draft]) -> None:
    if _to_admins(ctx.text, [ctx.t, ctx.t_for(None)]):
        ctx.data.audience, ctx.data.label = "admins", ctx.t("broadcast.label_admins")


def _to_admins(text: str, languages: list[Texts]) -> bool:
    """«рассылка админам ...» (`broadcast.admins_words`), in the person's language or the bot's default."""
    typed = " ".join(text.lower().split())
    words = [word for texts in languages for word in texts.variants("broadcast.admins_words")]
    return any(typed == word or typed.startswith(word + " ") for word in words)


# --- compose


@flow.asks("compose")
def ask_message(ctx: Ctx[Draft]) -> None:
    ctx.ask(ctx.t("broadcast.ask_message"), _compose_buttons(ctx))


def _compose_buttons(ctx: Ctx[Draft]) -> list:
    return [[ctx.option(ctx.t("broadcast.done"), "done", "positive")], way_out(ctx)]


@flow.receives("compose")
def got_message(ctx: Ctx[Draft]) -> None:
    if ctx.button == "done":
        if not ctx.data.parts:
            ctx.reply(ctx.t("broadcast.nothing_yet"))
            return
        ctx.data.rewrite = False  # «Готово» with nothing new: the old text it is
        ctx.go("composed")
        return
    problem = _add_parts(ctx)
    if problem:
        ctx.reply(problem)
        return
    ctx.ask(ctx.t("broadcast.added", count=len(ctx.data.parts)), _compose_buttons(ctx))


def _add_parts(ctx: Ctx[Draft]) -> str | None:
    """Turn the headman's message into parts; a reason to refuse it instead, if there is one."""
    # The first message accepted after «Изменить текст» replaces the old text (kept until then for «назад»).
    kept = [] if ctx.data.rewrite else ctx.data.parts
    parts, problem = message_parts(ctx.event, room=MAX_PARTS - len(kept))
    if problem is not None:
        key, values = problem
        return ctx.t(f"broadcast.{key}", **values)
    ctx.data.parts = [*kept, *parts]
    ctx.data.rewrite = False
    return None


# --- audience


@flow.asks("audience")
def ask_audience(ctx: Ctx[Draft]) -> None:
    rows = []
    group = ctx.member.study_group
    if group:
        rows.append([ctx.option(ctx.t("broadcast.audience_group", group=group), "group", "primary")])
        subgroups = ctx.services.broadcasts.subgroups()
        if subgroups:
            rows.append([ctx.option(ctx.t("broadcast.audience_subgroup", number=n), ("sub", n)) for n in subgroups[:4]])
        rows.append([ctx.option(ctx.t("broadcast.audience_pick"), "pick")])
    if ctx.member.role is Role.ADMIN:
        rows.append([ctx.option(ctx.t("broadcast.audience_stream"), "stream")])
    rows.append([ctx.option(ctx.t("broadcast.audience_admins"), "admins")])
    ctx.ask(ctx.t("broadcast.ask_audience"), rows)


@flow.receives("audience")
def got_audience(ctx: Ctx[Draft]) -> None:
    group = ctx.member.study_group or ""
    match ctx.choice:
        case ("group",) if group:
            ctx.data.audience, ctx.data.label = "group", group
        case ("sub", int(subgroup)) if group and 1 <= subgroup <= MAX_SUBGROUP:
            ctx.data.audience, ctx.data.subgroup, ctx.data.label = "subgroup", subgroup, f"{group}/{subgroup}"
        case ("pick",) if group:
            ctx.data.chosen, ctx.data.page, ctx.data.query = [], 0, ""
            ctx.go("pick_people")
            return
        case ("stream",):
            ctx.require(Role.ADMIN)
            ctx.data.audience, ctx.data.label = "stream", ctx.t("broadcast.label_stream")
        case ("admins",):
            ctx.data.audience, ctx.data.label = "admins", ctx.t("broadcast.label_admins")
        case _:
            ctx.ask_again()
            return
    ctx.go("chosen")


# --- picking students one by one


def _page(ctx: Ctx[Draft]) -> tuple[str, list]:
    people = ctx.services.broadcasts.classmates(ctx.data.query)
    chosen = set(ctx.data.chosen)
    view = PEOPLE.view(
        ctx, [Item(p.vk_id, p.name) for p in people], chosen, ctx.t("broadcast.picked", count=len(chosen))
    )
    query = ctx.data.query
    text = ctx.t("broadcast.pick_title", page=view.page + 1, pages=view.pages)
    if query:
        text += "\n" + ctx.t("broadcast.pick_search", query=query)
    return text, view.rows


@flow.asks("pick")
def show_people(ctx: Ctx[Draft]) -> None:
    text, rows = _page(ctx)
    ctx.ask(text, rows)


@flow.receives("pick")
def pick(ctx: Ctx[Draft]) -> None:
    match PEOPLE.pressed(ctx):
        case "searched":  # a typed surname
            ctx.ask_again()
            return
        case "done" if not ctx.data.chosen:
            ctx.snackbar(ctx.t("broadcast.nobody_picked"))
        case "done":
            ctx.data.audience = "chosen"
            ctx.data.label = ctx.t("broadcast.audience_chosen", count=len(ctx.data.chosen))
            ctx.go("chosen")
            return
        case Toggled(vk_id) if any(p.vk_id == vk_id for p in ctx.services.broadcasts.classmates()):
            # Only classmates can be picked, whatever the payload says.
            chosen = ctx.data.chosen
            chosen.remove(vk_id) if vk_id in chosen else chosen.append(vk_id)
    text, rows = _page(ctx)
    ctx.update(text, rows)


# --- options


def _options(ctx: Ctx[Draft]) -> tuple[str, list]:
    ack = ctx.t("broadcast.option_ack_on" if ctx.data.ask_ack else "broadcast.option_ack_off")
    rows = [[ctx.option(ack, "ack", callback=True)]]
    if ctx.services.broadcasts.group_chat is not None and ctx.data.audience in ("group", "subgroup"):
        pin = ctx.t("broadcast.option_pin_on" if ctx.data.pin else "broadcast.option_pin_off")
        rows.append([ctx.option(pin, "pin", callback=True)])
    rows.append([ctx.option(ctx.t("broadcast.next"), "next", "positive")])
    return ctx.t("broadcast.ask_options"), rows


@flow.asks("options")
def show_options(ctx: Ctx[Draft]) -> None:
    text, rows = _options(ctx)
    ctx.ask(text, rows)


@flow.receives("options")
def got_option(ctx: Ctx[Draft]) -> None:
    if ctx.button in ("ack", "pin"):
        if ctx.button == "ack":
            ctx.data.ask_ack = not ctx.data.ask_ack
        else:
            ctx.data.pin = not ctx.data.pin
        text, rows = _options(ctx)
        ctx.update(text, rows)
    elif ctx.button == "next":
        ctx.go("ready")
    else:
        ctx.ask_again()


# --- confirm


def _recipients(ctx: Ctx[Draft]) -> list[Recipient]:
    return ctx.services.broadcasts.recipients(ctx.data.audience, subgroup=ctx.data.subgroup, chosen=ctx.data.chosen)


@flow.asks("confirm")
def preview(ctx: Ctx[Draft]) -> None:
    recipients = _recipients(ctx)
    if not recipients:
        ctx.ask(
            ctx.t("broadcast.no_recipients", audience=ctx.data.label),
            [[ctx.option(ctx.t("broadcast.change_recipients"), "recipients")]],
        )
        return
    ctx.reply(ctx.t("broadcast.preview_header"))
    for part in preview_parts(ctx.data.parts, ctx.data.ask_ack, ctx.t):
        ctx.reply(part.get("text", ""), keyboard=part.get("keyboard"), attachment=part.get("attachment"),
                  forward=part.get("forward"))  # fmt: skip
    if ctx.data.audience == "chosen":  # the label is the count already: «2 выбранных студента»
        summary = [ctx.t("broadcast.summary_chosen", count=len(recipients))]
    else:
        summary = [ctx.t("broadcast.summary", count=len(recipients), audience=ctx.data.label)]
    if ctx.data.pin:
        summary.append(ctx.t("broadcast.summary_pin"))
    closed = [r.name for r in recipients if not r.can_receive]
    if closed:
        summary.append(ctx.t("broadcast.summary_closed", count=len(closed), names=", ".join(closed[:30])))
    ctx.ask(
        "\n".join(summary),
        [
            [ctx.option(ctx.t("broadcast.send"), "send", "positive")],
            [ctx.option(ctx.t("broadcast.edit"), "edit"), ctx.option(ctx.t("broadcast.cancel"), "cancel", "negative")],
        ],
    )


@flow.receives("confirm")
def decide(ctx: Ctx[Draft]) -> None:
    if ctx.button == "send":
        if ctx.data.audience == "stream":
            ctx.require(Role.ADMIN)  # checked again: a step's payload can be forged
        if not ctx.data.parts:
            ctx.reply(ctx.t("broadcast.nothing_yet"))
            ctx.go("edit")
            return
        recipients = _recipients(ctx)
        if not recipients:  # they left meanwhile: the preview says so
            ctx.ask_again()
            return
        broadcast = ctx.services.broadcasts.create(
            ctx.data.audience,
            ctx.data.label,
            ctx.data.parts,
            ctx.data.ask_ack,
            recipients,
            ctx.t,
            ctx.services.nudge_after,
            post_in_chat=ctx.data.pin,
            texts_for=ctx.t_for,  # each recipient's «Ознакомлен» in their language
        )
        ctx.finish(ctx.t("broadcast.sent", id=broadcast.id, count=len(recipients)))
    elif ctx.button == "edit":
        ctx.data.rewrite = True  # see _add_parts
        ctx.go("edit")
    elif ctx.button == "recipients":
        # The audience stays chosen until another is: «назад» returns to this preview (issue 15), and
        # the choice made next replaces it anyway.
        ctx.go("recipients")
    elif ctx.button == "cancel":
        ctx.finish(ctx.t("broadcast.cancelled"))
    else:
        ctx.ask_again()
