"""«назначить»: a stream admin appoints a group's headman or deputy (or takes the role away).

Settings can name leaders too (`stream.groups`); this dialog is for the middle of a semester,
when a headman changes and nobody wants to redeploy the bot for it.
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Transition
from fsm_bot.services.inputs import parse_id

ROLES = {"headman": Role.HEADMAN, "deputy": Role.DEPUTY, "student": Role.STUDENT}
# VK's inline keyboard: at most 10 buttons in at most 6 rows (fsm_bot/vk/keyboards.py); more refuses the message.
GROUP_BUTTONS = 10  # two to a row
PEOPLE_SHOWN = 6  # one to a row: a name and a group need the width

flow = Flow(
    name="appoint",
    description="appoint.description",
    role=Role.ADMIN,
    takes_text=True,  # «назначить ИВТ-101»
    in_menu=False,  # one of «⚙ Настройка»'s actions (flows/setup.py); the word still starts it
    states=["group", "person", "role"],
    transitions=[
        Transition("group_chosen", "group", "person"),
        Transition("person_chosen", "person", "role"),
    ],
)


@flow.asks("group")
def ask_group(ctx: Ctx) -> None:
    groups = ctx.services.study_groups()
    if not groups:
        ctx.finish(ctx.t("appoint.no_groups"))
        return
    options = [ctx.option(name, name) for name in groups]
    buttons = [options[index : index + 2] for index in range(0, len(options), 2)]
    ctx.ask(ctx.t("appoint.ask_group"), buttons if len(groups) <= GROUP_BUTTONS else None)


@flow.receives("group")
def got_group(ctx: Ctx) -> None:
    groups = {name.lower(): name for name in ctx.services.study_groups()}
    chosen = groups.get((ctx.button or ctx.text).lower())
    if chosen is None:
        ctx.ask_again(ctx.t("appoint.unknown_group"))
        return
    ctx.data["group"] = chosen
    ctx.go("group_chosen")


@flow.asks("person")
def ask_person(ctx: Ctx) -> None:
    ctx.ask(ctx.t("appoint.ask_person", group=ctx.data["group"]))


@flow.receives("person")
def got_person(ctx: Ctx) -> None:
    if ctx.button is not None and (vk_id := parse_id(ctx.button)) is not None:
        person = ctx.services.member(vk_id)
        if person is not None:
            ctx.data["person"], ctx.data["name"] = person.vk_id, person.full_name or f"id{person.vk_id}"
            ctx.go("person_chosen")
            return
    if not ctx.text:  # a sticker or spaces: the question again, rather than every member of the stream
        ctx.ask_again()
        return
    found = ctx.services.find_members(ctx.text, limit=PEOPLE_SHOWN)
    if not found:
        ctx.reply(ctx.t("appoint.nobody", query=ctx.text[:40]))
        return
    buttons = [
        [ctx.option(ctx.t("appoint.person", name=m.full_name or m.vk_id, group=m.study_group or "—"), str(m.vk_id))]
        for m in found
    ]
    ctx.ask(ctx.t("appoint.choose_person"), buttons)


@flow.asks("role")
def ask_role(ctx: Ctx) -> None:
    ctx.ask(
        ctx.t("appoint.ask_role", name=ctx.data["name"], group=ctx.data["group"]),
        [
            [ctx.option(ctx.t("appoint.headman"), "headman", "positive")],
            [ctx.option(ctx.t("appoint.deputy"), "deputy")],
            [ctx.option(ctx.t("appoint.student"), "student", "negative")],
        ],
    )


@flow.receives("role")
def got_role(ctx: Ctx) -> None:
    role = ROLES.get(ctx.button or "")
    if role is None:
        ctx.ask_again()
        return
    appointed = ctx.services.appoint(ctx.data["person"], ctx.data["group"], role)
    if appointed is None:
        ctx.finish(ctx.t("appoint.failed"))
        return
    role_name = ctx.t(f"appoint.{ROLES_KEYS[role]}")
    theirs = ctx.t_for(appointed)  # told in their language, which need not be the admin's
    their_role = theirs(f"appoint.{ROLES_KEYS[role]}")
    ctx.send_to(appointed.vk_id, theirs("appoint.told", role=their_role.lower(), group=ctx.data["group"]))
    ctx.finish(ctx.t("appoint.done", name=ctx.data["name"], role=role_name.lower(), group=ctx.data["group"]))


ROLES_KEYS = {role: key for key, role in ROLES.items()}
