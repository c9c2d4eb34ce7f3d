"""«рассылка»: the headman's message to every student personally, with «Ознакомлен» under it.

compose (one or more messages, «Готово») -> audience -> [pick students] -> options -> confirm
(a preview exactly as students will see it, the count, who cannot receive it) -> sent. What the
headman sent is carried over intact: attachments with their access keys (a native VK poll too), forwards
by forwarding the headman's own message. «рассылка админам» goes straight to the admins.

«📊 Сделать опросом» in the options makes the message a poll (issue 21): its answers (2 to 10, one a line),
one or several choices, named or anonymous, an optional deadline; students answer with buttons under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Texts, Transition, Unsaved
from fsm_bot.engine.widgets import Item, PagedMultiSelect, Toggled, way_out
from fsm_bot.services.broadcasts import Recipient, message_parts, preview_parts
from fsm_bot.services.polls import MAX_OPTION, MAX_OPTIONS, MIN_OPTIONS, PollDraft, parse_deadline

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
    poll: list[str] = field(default_factory=list)  # the answers of a poll; none: not a poll
    poll_multiple: bool = False  # several answers may be chosen
    poll_anonymous: bool = False  # nobody sees who chose what
    poll_until: str = ""  # the deadline, ISO in UTC; "" for none
    poll_until_label: str = ""  # the deadline as the author reads it: «25.12 18:00»


flow = Flow(
    name="broadcast",
    description="broadcast.description",
    role=Role.DEPUTY,
    takes_text=True,  # `.mb Завтра пар нет`: the text is the first part
    states=["compose", "audience", "pick", "options", "poll_answers", "poll", "poll_deadline", "confirm"],
    transitions=[
        Transition("composed", "compose", "audience", when=lambda ctx: not ctx.data.audience),
        Transition("composed", "compose", "options"),
        Transition("pick_people", "audience", "pick"),
        Transition("chosen", ["audience", "pick"], "options"),
        Transition("ready", "options", "confirm"),
        Transition("make_poll", "options", "poll_answers", when=lambda ctx: not ctx.data.poll),
        Transition("make_poll", "options", "poll"),
        Transition("answered", "poll_answers", "poll"),
        Transition("change_answers", "poll", "poll_answers"),
        Transition("set_deadline", "poll", "poll_deadline"),
        Transition("deadline_set", "poll_deadline", "poll"),
        Transition("poll_done", "poll", "options"),
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
    rows = []
    if not ctx.data.poll:  # a poll's answer is its acknowledgement
        ack = ctx.t("broadcast.option_ack_on" if ctx.data.ask_ack else "broadcast.option_ack_off")
        rows.append([ctx.option(ack, "ack", callback=True)])
    if ctx.services.broadcasts.group_chat is not None and ctx.data.audience in ("group", "subgroup"):
        pin = ctx.t("broadcast.option_pin_on" if ctx.data.pin else "broadcast.option_pin_off")
        rows.append([ctx.option(pin, "pin", callback=True)])
    if ctx.data.audience != "admins":
        if ctx.data.poll:
            poll = ctx.t("broadcast.option_poll_on", count=len(ctx.data.poll))
        else:
            poll = ctx.t("broadcast.option_poll_off")
        rows.append([ctx.option(poll, "poll")])
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
    elif ctx.button == "poll" and ctx.data.audience != "admins":
        ctx.go("make_poll")
    elif ctx.button == "next":
        ctx.go("ready")
    else:
        ctx.ask_again()


# --- a poll: its answers, how they are given, until when


@flow.asks("poll_answers")
def ask_answers(ctx: Ctx[Draft]) -> None:
    ctx.ask(ctx.t("broadcast.ask_poll_answers", low=MIN_OPTIONS, high=MAX_OPTIONS, length=MAX_OPTION))


@flow.receives("poll_answers")
def got_answers(ctx: Ctx[Draft]) -> None:
    answers = [" ".join(line.split()) for line in ctx.text.splitlines()]
    answers = [answer for answer in answers if answer]
    if not MIN_OPTIONS <= len(answers) <= MAX_OPTIONS:
        ctx.ask_again(ctx.t("broadcast.poll_count", low=MIN_OPTIONS, high=MAX_OPTIONS))
        return
    too_long = next((answer for answer in answers if len(answer) > MAX_OPTION), None)
    if too_long is not None:
        ctx.ask_again(ctx.t("broadcast.poll_too_long", answer=too_long, length=MAX_OPTION))
        return
    repeated = next((answer for n, answer in enumerate(answers) if answer in answers[:n]), None)
    if repeated is not None:
        ctx.ask_again(ctx.t("broadcast.poll_repeated", answer=repeated))
        return
    ctx.data.poll = answers
    ctx.go("answered")


def _poll_settings(ctx: Ctx[Draft]) -> tuple[str, list]:
    listed = "\n".join(f"{n}. {answer}" for n, answer in enumerate(ctx.data.poll, start=1))
    multiple = ctx.t("broadcast.poll_multiple" if ctx.data.poll_multiple else "broadcast.poll_single")
    anonymous = ctx.t("broadcast.poll_anonymous" if ctx.data.poll_anonymous else "broadcast.poll_named")
    if ctx.data.poll_until_label:
        deadline = ctx.t("broadcast.poll_until", deadline=ctx.data.poll_until_label)
    else:
        deadline = ctx.t("broadcast.poll_until_none")
    rows = [
        [ctx.option(multiple, "multiple", callback=True)],
        [ctx.option(anonymous, "anonymous", callback=True)],
        [ctx.option(deadline, "deadline"), ctx.option(ctx.t("broadcast.poll_change_answers"), "answers")],
        [
            ctx.option(ctx.t("broadcast.poll_remove"), "remove", "negative"),
            ctx.option(ctx.t("broadcast.poll_ready"), "done", "positive"),
        ],
    ]
    return ctx.t("broadcast.poll_settings", answers=listed), rows


@flow.asks("poll")
def show_poll(ctx: Ctx[Draft]) -> None:
    text, rows = _poll_settings(ctx)
    ctx.ask(text, rows)


@flow.receives("poll")
def got_poll_setting(ctx: Ctx[Draft]) -> None:
    match ctx.button:
        case "multiple" | "anonymous":
            if ctx.button == "multiple":
                ctx.data.poll_multiple = not ctx.data.poll_multiple
            else:
                ctx.data.poll_anonymous = not ctx.data.poll_anonymous
            text, rows = _poll_settings(ctx)
            ctx.update(text, rows)
        case "deadline":
            ctx.go("set_deadline")
        case "answers":
            ctx.go("change_answers")
        case "remove":
            ctx.data.poll, ctx.data.poll_multiple, ctx.data.poll_anonymous = [], False, False
            ctx.data.poll_until = ctx.data.poll_until_label = ""
            ctx.go("poll_done")
        case "done":
            ctx.go("poll_done")
        case _:
            ctx.ask_again()


@flow.asks("poll_deadline")
def ask_deadline(ctx: Ctx[Draft]) -> None:
    ctx.ask(ctx.t("broadcast.ask_poll_deadline"), [[ctx.option(ctx.t("broadcast.poll_no_deadline"), "none")]])


@flow.receives("poll_deadline")
def got_deadline(ctx: Ctx[Draft]) -> None:
    if ctx.button == "none":
        ctx.data.poll_until = ctx.data.poll_until_label = ""
        ctx.go("deadline_set")
        return
    now = datetime.now(ctx.services.timezone)
    deadline = parse_deadline(ctx.text, now)
    if deadline is None:
        ctx.ask_again(ctx.t("broadcast.poll_bad_deadline"))
        return
    if deadline <= now:
        ctx.ask_again(ctx.t("broadcast.poll_past_deadline"))
        return
    ctx.data.poll_until = deadline.astimezone(UTC).isoformat()
    ctx.data.poll_until_label = f"{deadline:%d.%m %H:%M}"
    ctx.go("deadline_set")


def _poll(ctx: Ctx[Draft]) -> PollDraft | None:
    if not ctx.data.poll or ctx.data.audience == "admins":
        return None
    until = datetime.fromisoformat(ctx.data.poll_until) if ctx.data.poll_until else None
    return PollDraft(
        tuple(ctx.data.poll), ctx.data.poll_multiple, ctx.data.poll_anonymous, until, ctx.data.poll_until_label
    )


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
    for part in preview_parts(ctx.data.parts, ctx.data.ask_ack, ctx.t, _poll(ctx)):
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
        poll = _poll(ctx)
        if poll is not None and poll.closes_at is not None and poll.closes_at <= datetime.now(UTC):
            ctx.ask_again(ctx.t("broadcast.poll_past_deadline"))  # it would close before anyone saw it
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
            poll=poll,
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
