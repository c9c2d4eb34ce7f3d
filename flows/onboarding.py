"""First contact: choose your study group, confirm your name as the register will show it, and
wait for the group's headman to approve (unless settings approve everyone at once).
"""

from __future__ import annotations

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Transition
from fsm_bot.services.community import headman_sex
from fsm_bot.services.inputs import clean_name

MAX_GROUP_BUTTONS = 10  # an inline keyboard holds at most 10 buttons; more groups are typed
# A group's name travels in its button's payload (VK: 255 characters at most, with the flow's keys);
# the column holds 64. A longer name, from an older database, is typed instead.
MAX_GROUP_NAME_IN_BUTTON = 64

flow = Flow(
    name="onboarding",
    description="onboarding.description",
    open_to_newcomers=True,
    takes_text=True,  # «регистрация ИВТ-101»
    in_menu=False,
    states=["group", "name", "fix_name"],
    transitions=[
        Transition("chosen", "group", "name"),
        Transition("fix", "name", "fix_name"),
        Transition("fixed", "fix_name", "name"),
    ],
)


@flow.on_start
def begin(ctx: Ctx) -> None:
    if ctx.member.onboarded and ctx.member.role is not Role.STUDENT:
        # Leaders and admins are placed by settings and sync; re-registering would demote them to pending.
        if ctx.member.study_group is None:  # a stream admin belongs to no group: say what she can do instead
            ctx.finish(ctx.t("onboarding.already_admin"))
        else:
            ctx.finish(ctx.t("onboarding.already_placed", group=ctx.member.study_group))
        return
    if ctx.member.status == "pending" and ctx.member.study_group:
        # One request at a time: each one writes to every leader of the group.
        sex = headman_sex(ctx.services.leaders_of(ctx.member.study_group))
        ctx.finish(ctx.t("onboarding.still_pending", group=ctx.member.study_group, sex=sex))


@flow.asks("group")
def ask_group(ctx: Ctx) -> None:
    groups = ctx.services.study_groups()
    if not groups:
        ctx.finish(ctx.t("onboarding.no_groups"))
        return
    fit = len(groups) <= MAX_GROUP_BUTTONS and all(len(name) <= MAX_GROUP_NAME_IN_BUTTON for name in groups)
    options = [ctx.option(name, name) for name in groups]
    # Two to a row: an inline keyboard has 6 rows for its 10 buttons (one to a row, 7 groups crashed).
    buttons = [options[index : index + 2] for index in range(0, len(options), 2)] if fit else None
    ctx.ask(ctx.t("onboarding.ask_group" if buttons else "onboarding.type_group"), buttons)


@flow.receives("group")
def got_group(ctx: Ctx) -> None:
    if _explained(ctx, "onboarding.help_group"):
        return
    answer = ctx.button or ctx.text
    groups = {name.lower(): name for name in ctx.services.study_groups()}
    chosen = groups.get(answer.strip().lower())
    if chosen is None:
        ctx.ask_again(ctx.t("onboarding.unknown_group", group=answer[:50]))
        return
    ctx.data["group"] = chosen
    ctx.data.setdefault("first_name", ctx.member.first_name)
    ctx.data.setdefault("last_name", ctx.member.last_name)
    ctx.go("chosen")


@flow.asks("name")
def ask_name(ctx: Ctx) -> None:
    full_name = f"{ctx.data['last_name']} {ctx.data['first_name']}".strip()
    if not full_name:
        ctx.go("fix")
        return
    ctx.ask(
        ctx.t("onboarding.confirm_name", name=full_name, group=ctx.data["group"]),
        [
            [
                ctx.option(ctx.t("onboarding.name_right"), "yes", "positive"),
                ctx.option(ctx.t("onboarding.name_fix"), "fix"),
            ]
        ],
    )


@flow.receives("name")
def name_answered(ctx: Ctx) -> None:
    if _explained(ctx, "onboarding.help_name"):
        return
    if ctx.button == "fix":
        ctx.go("fix")
    elif ctx.button == "yes":
        _join(ctx)
    else:
        ctx.ask_again()


@flow.asks("fix_name")
def ask_real_name(ctx: Ctx) -> None:
    ctx.ask(ctx.t("onboarding.ask_real_name"))


@flow.receives("fix_name")
def got_real_name(ctx: Ctx) -> None:
    if _explained(ctx, "onboarding.help_fix_name"):
        return
    name = clean_name(ctx.text)
    if name is None:
        ctx.reply(ctx.t("onboarding.name_format"))
        return
    ctx.data["last_name"], ctx.data["first_name"] = name
    ctx.go("fixed")


def _explained(ctx: Ctx, key: str) -> bool:
    """«помощь» (any word of the help flow) in the middle of registration: what this step asks and how to go
    on, then its question again. Outside a dialog the same word lists the commands."""
    words = {word.lower() for command in ctx.commands() if command.name == "help" for word in command.words}
    if ctx.button is not None or ctx.text.lower() not in words:
        return False
    ctx.ask_again(ctx.t(key))
    return True


def _join(ctx: Ctx) -> None:
    group = ctx.data["group"]
    ctx.services.set_name(ctx.data["first_name"], ctx.data["last_name"])
    approved = ctx.services.auto_approve
    ctx.services.request_group(group, approved=approved)
    if approved:
        ctx.finish(ctx.t("onboarding.welcome", group=group))
        return
    full_name = f"{ctx.data['last_name']} {ctx.data['first_name']}"
    group_leaders = ctx.services.leaders_of(group)
    leaders = group_leaders or ctx.services.stream_admins()
    for leader in leaders:
        theirs = ctx.t_for(leader)  # the leader reads the request in their language
        ctx.send_to(
            leader.vk_id,
            theirs("onboarding.leader_request", name=full_name, group=group, vk_id=ctx.member.vk_id),
            [
                [
                    ctx.command_button(
                        theirs("onboarding.approve"), "membership", (ctx.member.vk_id, "yes"), "positive"
                    ),
                    ctx.command_button(theirs("onboarding.reject"), "membership", (ctx.member.vk_id, "no"), "negative"),
                ]
            ],
        )
    # Without a headman the request went to the admins, and the answer says so.
    if group_leaders:
        ctx.finish(ctx.t("onboarding.sent", group=group, sex=headman_sex(group_leaders)))
    else:
        ctx.finish(ctx.t("onboarding.no_leader", group=group))
