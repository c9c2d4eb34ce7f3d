"""«рассылка»: the headman's message to every student personally, with «Ознакомлен» under it.

compose (one or more messages, «Готово») -> audience -> [pick students] -> options -> confirm
(a preview exactly as students will see it, the count, who cannot receive it) -> sent. What the
headman sent is carried over intact: attachments with their access keys, forwards by forwarding
the headman's own message. «рассылка админам» goes straight to the admins.
"""

from __future__ import annotations

from fsm_bot.engine import Context, Flow, Role, Transition
from fsm_bot.services.broadcasts import message_parts, preview_parts
from fsm_bot.services.inputs import parse_id, parse_int

PAGE_SIZE = 7  # an inline keyboard holds 10 buttons in 6 rows: 7 people two to a row, ◀ «Готово» ▶
MAX_PARTS = 10
ADMINS_TRIGGER = "рассылка админам"

flow = Flow(
    name="broadcast",
    description="broadcast.description",
    triggers=[".mb", "рассылка участникам", "рассылка", ADMINS_TRIGGER],
    role=Role.DEPUTY,
    states=["compose", "audience", "pick", "options", "confirm"],
    transitions=[
        Transition("composed", "compose", "audience", when=lambda ctx: not ctx.data.get("audience")),
        Transition("composed", "compose", "options"),
        Transition("pick_people", "audience", "pick"),
        Transition("chosen", ["audience", "pick"], "options"),
        Transition("ready", "options", "confirm"),
        Transition("edit", "confirm", "compose"),
        Transition("recipients", "confirm", "audience"),
    ],
)


@flow.on_start
def begin(ctx: Context) -> None:
    ctx.data.update(parts=[], ask_ack=True, chosen=[], page=0, query="")
    if ctx.text.lower().startswith(ADMINS_TRIGGER):
        ctx.data.update(audience="admins", label=ctx.t("broadcast.audience_admins"))
    ctx.enter("compose")


# --- compose


@flow.asks("compose")
def ask_message(ctx: Context) -> None:
    ctx.ask(ctx.t("broadcast.ask_message"), [[ctx.option(ctx.t("broadcast.done"), "done", "positive")]])


@flow.receives("compose")
def got_message(ctx: Context) -> None:
    if ctx.button == "done":
        if not ctx.data["parts"]:
            ctx.reply(ctx.t("broadcast.nothing_yet"))
            return
        ctx.data.pop("rewrite", None)  # «Готово» with nothing new: the old text it is
        ctx.go("composed")
        return
    problem = _add_parts(ctx)
    if problem:
        ctx.reply(problem)
        return
    ctx.ask(
        ctx.t("broadcast.added", count=len(ctx.data["parts"])),
        [[ctx.option(ctx.t("broadcast.done"), "done", "positive")]],
    )


def _add_parts(ctx: Context) -> str | None:
    """Turn the headman's message into parts; a reason to refuse it instead, if there is one."""
    # The first message accepted after «Изменить текст» replaces the old text (kept until then for «назад»).
    kept = [] if ctx.data.get("rewrite") else ctx.data["parts"]
    parts, problem = message_parts(ctx.event, room=MAX_PARTS - len(kept))
    if problem is not None:
        key, values = problem
        return ctx.t(f"broadcast.{key}", **values)
    ctx.data["parts"] = [*kept, *parts]
    ctx.data.pop("rewrite", None)
    return None


# --- audience


@flow.asks("audience")
def ask_audience(ctx: Context) -> None:
    rows = []
    group = ctx.member.study_group
    if group:
        rows.append([ctx.option(ctx.t("broadcast.audience_group", group=group), "group", "primary")])
        subgroups = ctx.services.broadcasts.subgroups()
        if subgroups:
            rows.append([ctx.option(ctx.t("broadcast.audience_subgroup", number=n), f"sub:{n}") for n in subgroups[:4]])
        rows.append([ctx.option(ctx.t("broadcast.audience_pick"), "pick")])
    if ctx.member.role is Role.ADMIN:
        rows.append([ctx.option(ctx.t("broadcast.audience_stream"), "stream")])
    rows.append([ctx.option(ctx.t("broadcast.audience_admins"), "admins")])
    ctx.ask(ctx.t("broadcast.ask_audience"), rows)


@flow.receives("audience")
def got_audience(ctx: Context) -> None:
    choice = ctx.button or ""
    group = ctx.member.study_group or ""
    if choice == "group" and group:
        ctx.data.update(audience="group", label=group)
    elif choice.startswith("sub:") and (subgroup := parse_int(choice[4:], 1, 99)) is not None and group:
        ctx.data.update(audience="subgroup", subgroup=subgroup, label=f"{group}/{subgroup}")
    elif choice == "pick" and group:
        ctx.data.update(chosen=[], page=0, query="")
        ctx.go("pick_people")
        return
    elif choice == "stream":
        ctx.require(Role.ADMIN)
        ctx.data.update(audience="stream", label=ctx.t("broadcast.audience_stream"))
    elif choice == "admins":
        ctx.data.update(audience="admins", label=ctx.t("broadcast.audience_admins"))
    else:
        ctx.enter("audience")
        return
    ctx.go("chosen")


# --- picking students one by one


def _page(ctx: Context) -> tuple[str, list]:
    people = ctx.services.broadcasts.classmates(ctx.data.get("query", ""))
    pages = max(1, -(-len(people) // PAGE_SIZE))
    page = min(ctx.data.get("page", 0), pages - 1)
    ctx.data["page"] = page
    chosen = set(ctx.data["chosen"])
    toggles = [
        ctx.option(("✅ " if p.vk_id in chosen else "▫️ ") + p.name, f"t:{p.vk_id}", callback=True)
        for p in people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    rows = [toggles[index : index + 2] for index in range(0, len(toggles), 2)]
    last_row = [ctx.option(ctx.t("broadcast.picked", count=len(chosen)), "done", "positive", callback=True)]
    if page > 0:
        last_row.insert(0, ctx.option("◀", "p:prev", callback=True))
    if page < pages - 1:
        last_row.append(ctx.option("▶", "p:next", callback=True))
    rows.append(last_row)
    query = ctx.data.get("query")
    text = ctx.t("broadcast.pick_title", page=page + 1, pages=pages)
    if query:
        text += "\n" + ctx.t("broadcast.pick_search", query=query)
    return text, rows


@flow.asks("pick")
def show_people(ctx: Context) -> None:
    text, rows = _page(ctx)
    ctx.ask(text, rows)


@flow.receives("pick")
def pick(ctx: Context) -> None:
    choice = ctx.button
    if choice is None:  # a typed surname: search
        ctx.data.update(query=ctx.text[:40], page=0)
        ctx.enter("pick")
        return
    if choice == "done":
        if not ctx.data["chosen"]:
            ctx.snackbar(ctx.t("broadcast.nobody_picked"))
            text, rows = _page(ctx)
            ctx.update(text, rows)
            return
        ctx.data.update(audience="chosen", label=ctx.t("broadcast.audience_chosen", count=len(ctx.data["chosen"])))
        ctx.go("chosen")
        return
    if choice.startswith("t:") and (vk_id := parse_id(choice[2:])) is not None:
        # Only classmates can be picked, whatever the payload says.
        if any(p.vk_id == vk_id for p in ctx.services.broadcasts.classmates()):
            chosen = ctx.data["chosen"]
            chosen.remove(vk_id) if vk_id in chosen else chosen.append(vk_id)
    elif choice in ("p:prev", "p:next"):
        ctx.data["page"] = ctx.data.get("page", 0) + (1 if choice == "p:next" else -1)
    text, rows = _page(ctx)
    ctx.update(text, rows)


# --- options


def _options(ctx: Context) -> tuple[str, list]:
    ack = ctx.t("broadcast.option_ack_on" if ctx.data["ask_ack"] else "broadcast.option_ack_off")
    rows = [[ctx.option(ack, "ack", callback=True)]]
    if ctx.services.broadcasts.group_chat is not None and ctx.data["audience"] in ("group", "subgroup"):
        pin = ctx.t("broadcast.option_pin_on" if ctx.data.get("pin") else "broadcast.option_pin_off")
        rows.append([ctx.option(pin, "pin", callback=True)])
    rows.append([ctx.option(ctx.t("broadcast.next"), "next", "positive")])
    return ctx.t("broadcast.ask_options"), rows


@flow.asks("options")
def show_options(ctx: Context) -> None:
    text, rows = _options(ctx)
    ctx.ask(text, rows)


@flow.receives("options")
def got_option(ctx: Context) -> None:
    if ctx.button in ("ack", "pin"):
        key = "ask_ack" if ctx.button == "ack" else "pin"
        ctx.data[key] = not ctx.data.get(key)
        text, rows = _options(ctx)
        ctx.update(text, rows)
    elif ctx.button == "next":
        ctx.go("ready")
    else:
        ctx.enter("options")


# --- confirm


def _recipients(ctx: Context):  # type: ignore[no-untyped-def]
    return ctx.services.broadcasts.recipients(
        ctx.data["audience"], subgroup=ctx.data.get("subgroup"), chosen=ctx.data.get("chosen", [])
    )


@flow.asks("confirm")
def preview(ctx: Context) -> None:
    recipients = _recipients(ctx)
    if not recipients:
        ctx.ask(
            ctx.t("broadcast.no_recipients", audience=ctx.data["label"]),
            [[ctx.option(ctx.t("broadcast.change_recipients"), "recipients")]],
        )
        return
    ctx.reply(ctx.t("broadcast.preview_header"))
    for part in preview_parts(ctx.data["parts"], ctx.data["ask_ack"], ctx.t):
        ctx.reply(part.get("text", ""), keyboard=part.get("keyboard"), attachment=part.get("attachment"),
                  forward=part.get("forward"))  # fmt: skip
    summary = [ctx.t("broadcast.summary", count=len(recipients), audience=ctx.data["label"])]
    if ctx.data.get("pin"):
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
def decide(ctx: Context) -> None:
    if ctx.button == "send":
        if ctx.data["audience"] == "stream":
            ctx.require(Role.ADMIN)  # checked again: a step's payload can be forged
        if not ctx.data["parts"]:
            ctx.reply(ctx.t("broadcast.nothing_yet"))
            ctx.go("edit")
            return
        recipients = _recipients(ctx)
        if not recipients:
            ctx.enter("confirm")
            return
        broadcast = ctx.services.broadcasts.create(
            ctx.data["audience"],
            ctx.data["label"],
            ctx.data["parts"],
            ctx.data["ask_ack"],
            recipients,
            ctx.t,
            ctx.services.nudge_after,
            post_in_chat=bool(ctx.data.get("pin")),
        )
        ctx.finish(ctx.t("broadcast.sent", id=broadcast.id, count=len(recipients)))
    elif ctx.button == "edit":
        ctx.data["rewrite"] = True  # see _add_parts
        ctx.go("edit")
    elif ctx.button == "recipients":
        # The audience stays chosen until another is: «назад» returns to this preview (issue 15), and
        # the choice made next replaces it anyway.
        ctx.go("recipients")
    elif ctx.button == "cancel":
        ctx.finish(ctx.t("broadcast.cancelled"))
    else:
        ctx.enter("confirm")
