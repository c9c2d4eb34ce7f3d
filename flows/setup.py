"""«⚙ Настройка»: a community manager shapes the stream from VK, with no settings.yaml and no redeploy.

A menu of actions, each a short dialog that comes back to the menu: create, rename and remove study
groups; move a student to another group; split a group into subgroups; appoint headmen and deputies
(«назначить», which keeps its own word); switch the approval of newcomers; unbind a group's chat. Stream
admins only: the engine checks the role at every step, and `ctx.services.setup` refuses anyone else again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows._context import Ctx
from fsm_bot.engine import Flow, KeyboardButton, Role, Transition
from fsm_bot.engine.widgets import Item, PagedMultiSelect, Toggled
from fsm_bot.services.inputs import clean_group_name, parse_id
from fsm_bot.services.setup import MAX_SUBGROUPS, Overview, Refused

GROUP_BUTTONS = 10  # VK's inline keyboard: 10 buttons at most; more groups are typed
PEOPLE_SHOWN = 6


@dataclass
class Setup:
    action: str = ""  # rename, remove, subgroups or unbind: what the chosen group is for
    group: str = ""
    person: int = 0
    person_name: str = ""
    count: int = 0  # subgroups being set up
    current: int = 0  # the subgroup whose students are being marked
    chosen: list[int] = field(default_factory=list)
    page: int = 0


flow = Flow(
    name="setup",
    description="setup.description",
    role=Role.ADMIN,
    data=Setup,
    states=["menu", "new_name", "group", "rename", "remove", "person", "target", "count", "split", "unbind"],
    transitions=[
        Transition("create", "menu", "new_name"),
        Transition("pick_group", "menu", "group"),
        Transition("move", "menu", "person"),
        Transition("to_rename", "group", "rename"),
        Transition("to_remove", "group", "remove"),
        Transition("to_count", "group", "count"),
        Transition("to_unbind", "group", "unbind"),
        Transition("person_chosen", "person", "target"),
        Transition("counted", "count", "split"),
        Transition("next_subgroup", "split", "split"),
        Transition("done", ["new_name", "rename", "remove", "target", "count", "split", "unbind"], "menu"),
    ],
)
STUDENTS = PagedMultiSelect(page_key="page")


# --- the menu


@flow.asks("menu")
def ask_menu(ctx: Ctx[Setup]) -> None:
    overview = ctx.services.setup.overview()
    approval = ctx.t("setup.approval_on" if overview.auto_approve else "setup.approval_off")

    def button(action: str, label: str) -> KeyboardButton:
        return ctx.option(label, ("a", action))

    rows = [
        [button("create", ctx.t("setup.create")), button("rename", ctx.t("setup.rename"))],
        [button("remove", ctx.t("setup.remove")), button("move", ctx.t("setup.move"))],
        [button("appoint", ctx.t("setup.appoint")), button("subgroups", ctx.t("setup.subgroups"))],
        [button("approval", approval)],
    ]
    if any(group.chat_peer_id is not None for group in overview.groups):
        rows.append([button("unbind", ctx.t("setup.unbind"))])
    rows.append([ctx.option(ctx.t("setup.done"), ("a", "done"), "positive")])
    ctx.ask(_overview_text(ctx, overview), rows)


def _overview_text(ctx: Ctx[Setup], overview: Overview) -> str:
    lines = [ctx.t("setup.title")]
    for group in overview.groups:
        leaders = group.headman or ctx.t("setup.no_headman")
        if group.deputies:
            leaders += ", " + ", ".join(group.deputies)
        line = ctx.t("setup.group_line", name=group.name, students=group.students, leaders=leaders)
        if group.subgroups:
            line += ctx.t("setup.group_subgroups", numbers=", ".join(str(n) for n in group.subgroups))
        if group.chat_peer_id is not None:
            line += ctx.t("setup.group_chat")
        lines.append(line)
    if not overview.groups:
        lines.append(ctx.t("setup.no_groups"))
    lines.append(ctx.t("setup.approval_is_on" if not overview.auto_approve else "setup.approval_is_off"))
    return "\n".join(lines)


@flow.receives("menu")
def chose_action(ctx: Ctx[Setup]) -> None:
    match ctx.choice:
        case ("a", "create"):
            ctx.go("create")
        case ("a", "rename" | "remove" | "subgroups" | "unbind" as action):
            ctx.data.action = action
            ctx.go("pick_group")
        case ("a", "move"):
            ctx.go("move")
        case ("a", "appoint"):
            ctx.start_flow("appoint")
        case ("a", "approval"):
            setup = ctx.services.setup
            setup.set_auto_approve(not setup.auto_approve)
            ctx.ask_again(ctx.t("setup.approval_now_off" if setup.auto_approve else "setup.approval_now_on"))
        case ("a", "done"):
            ctx.finish(ctx.t("setup.bye"))
        case _:
            ctx.ask_again()


# --- a new group


@flow.asks("new_name")
def ask_new_name(ctx: Ctx[Setup]) -> None:
    ctx.ask(ctx.t("setup.ask_new_name"))


@flow.receives("new_name")
def got_new_name(ctx: Ctx[Setup]) -> None:
    name = clean_group_name(ctx.text)
    if name is None:
        ctx.ask_again(ctx.t("setup.bad_name"))
        return
    if ctx.services.setup.create_group(name) is Refused.TAKEN:
        ctx.ask_again(ctx.t("setup.taken", name=name))
        return
    ctx.reply(ctx.t("setup.created", name=name))
    ctx.go("done")


# --- which group


@flow.asks("group")
def ask_group(ctx: Ctx[Setup]) -> None:
    setup = ctx.services.setup
    groups = setup.chat_groups() if ctx.data.action == "unbind" else setup.group_names()
    options = [ctx.option(name, ("g", name)) for name in groups]
    buttons = [options[index : index + 2] for index in range(0, len(options), 2)]
    ctx.ask(ctx.t(f"setup.ask_group_{ctx.data.action}"), buttons if len(groups) <= GROUP_BUTTONS else None)


@flow.receives("group")
def got_group(ctx: Ctx[Setup]) -> None:
    chosen = _group_named(ctx)
    if chosen is None:
        ctx.ask_again(ctx.t("setup.unknown_group"))
        return
    ctx.data.group = chosen
    match ctx.data.action:
        case "rename":
            ctx.go("to_rename")
        case "remove":
            ctx.go("to_remove")
        case "unbind":
            ctx.go("to_unbind")
        case _:
            ctx.go("to_count")


def _group_named(ctx: Ctx[Setup]) -> str | None:
    """The group a button names, or the one typed (ё and case aside)."""
    match ctx.choice:
        case ("g", str(name)):
            typed = name
        case _:
            typed = ctx.text
    groups = {name.lower().replace("ё", "е"): name for name in ctx.services.setup.group_names()}
    return groups.get(typed.strip().lower().replace("ё", "е"))


# --- rename


@flow.asks("rename")
def ask_rename(ctx: Ctx[Setup]) -> None:
    ctx.ask(ctx.t("setup.ask_rename", name=ctx.data.group))


@flow.receives("rename")
def got_rename(ctx: Ctx[Setup]) -> None:
    name = clean_group_name(ctx.text)
    if name is None:
        ctx.ask_again(ctx.t("setup.bad_name"))
        return
    refused = ctx.services.setup.rename_group(ctx.data.group, name)
    if refused is Refused.TAKEN:
        ctx.ask_again(ctx.t("setup.taken", name=name))
        return
    ctx.reply(ctx.t("setup.gone") if refused else ctx.t("setup.renamed", old=ctx.data.group, name=name))
    ctx.go("done")


# --- remove


@flow.asks("remove")
def ask_remove(ctx: Ctx[Setup]) -> None:
    ctx.ask(
        ctx.t("setup.ask_remove", name=ctx.data.group),
        [[ctx.option(ctx.t("setup.remove_yes"), "yes", "negative"), ctx.option(ctx.t("setup.remove_no"), "no")]],
    )


@flow.receives("remove")
def got_remove(ctx: Ctx[Setup]) -> None:
    if ctx.button not in ("yes", "no"):
        ctx.ask_again()
        return
    if ctx.button == "yes":
        removal = ctx.services.setup.remove_group(ctx.data.group)
        if removal.refused is Refused.NOT_EMPTY:
            ctx.reply(ctx.t("setup.not_empty", name=ctx.data.group, count=removal.students))
        elif removal.refused is Refused.LAST_GROUP:
            ctx.reply(ctx.t("setup.last_group"))
        elif removal.refused is not None:
            ctx.reply(ctx.t("setup.gone"))
        else:
            ctx.reply(ctx.t("setup.removed", name=ctx.data.group))
    ctx.go("done")


# --- unbind a group's chat


@flow.asks("unbind")
def ask_unbind(ctx: Ctx[Setup]) -> None:
    ctx.ask(
        ctx.t("setup.ask_unbind", name=ctx.data.group),
        [[ctx.option(ctx.t("setup.unbind_yes"), "yes", "negative"), ctx.option(ctx.t("setup.unbind_no"), "no")]],
    )


@flow.receives("unbind")
def got_unbind(ctx: Ctx[Setup]) -> None:
    if ctx.button not in ("yes", "no"):
        ctx.ask_again()
        return
    if ctx.button == "yes":
        refused = ctx.services.setup.unbind_chat(ctx.data.group)
        if refused is Refused.NO_CHAT:
            ctx.reply(ctx.t("setup.no_chat", name=ctx.data.group))
        elif refused is not None:
            ctx.reply(ctx.t("setup.gone"))
        else:
            ctx.reply(ctx.t("setup.unbound", name=ctx.data.group))
    ctx.go("done")


# --- move a student


@flow.asks("person")
def ask_person(ctx: Ctx[Setup]) -> None:
    ctx.ask(ctx.t("setup.ask_person"))


@flow.receives("person")
def got_person(ctx: Ctx[Setup]) -> None:
    match ctx.choice:
        case ("p", int(vk_id)) if (person := ctx.services.member(vk_id)) is not None:
            ctx.data.person, ctx.data.person_name = person.vk_id, person.full_name or f"id{person.vk_id}"
            ctx.go("person_chosen")
            return
    if not ctx.text:
        ctx.ask_again()
        return
    found = ctx.services.find_members(ctx.text, limit=PEOPLE_SHOWN)
    if not found:
        ctx.reply(ctx.t("setup.nobody", query=ctx.text[:40]))
        return
    buttons = [
        [ctx.option(ctx.t("setup.person", name=m.full_name or m.vk_id, group=m.study_group or "—"), ("p", m.vk_id))]
        for m in found
    ]
    ctx.ask(ctx.t("setup.choose_person"), buttons)


@flow.asks("target")
def ask_target(ctx: Ctx[Setup]) -> None:
    person = ctx.services.member(ctx.data.person)
    current = (person.study_group if person is not None else None) or "—"
    groups = ctx.services.setup.group_names()
    options = [ctx.option(name, ("g", name)) for name in groups]
    buttons = [options[index : index + 2] for index in range(0, len(options), 2)]
    text = ctx.t("setup.ask_target", name=ctx.data.person_name, group=current)
    ctx.ask(text, buttons if len(groups) <= GROUP_BUTTONS else None)


@flow.receives("target")
def got_target(ctx: Ctx[Setup]) -> None:
    group = _group_named(ctx)
    if group is None:
        ctx.ask_again(ctx.t("setup.unknown_group"))
        return
    moved = ctx.services.setup.move(ctx.data.person, group)
    if isinstance(moved, Refused):
        ctx.reply(ctx.t("setup.gone"))
    else:
        ctx.send_to(moved.vk_id, ctx.t_for(moved)("setup.told_moved", group=group, sex=ctx.member.sex))
        ctx.reply(ctx.t("setup.moved", name=ctx.data.person_name, group=group))
    ctx.go("done")


# --- subgroups


@flow.asks("count")
def ask_count(ctx: Ctx[Setup]) -> None:
    numbers = [ctx.option(str(n), ("n", n)) for n in range(2, MAX_SUBGROUPS + 1)]
    ctx.ask(
        ctx.t("setup.ask_count", name=ctx.data.group),
        [numbers, [ctx.option(ctx.t("setup.no_subgroups"), ("n", 0), "negative")]],
    )


@flow.receives("count")
def got_count(ctx: Ctx[Setup]) -> None:
    match ctx.choice:
        case ("n", int(count)) if count == 0 or 2 <= count <= MAX_SUBGROUPS:
            pass
        case _:
            typed = parse_id(ctx.text)
            if typed is None or not 2 <= typed <= MAX_SUBGROUPS:
                ctx.ask_again(ctx.t("setup.bad_count", most=MAX_SUBGROUPS))
                return
            count = typed
    ctx.services.setup.set_subgroups(ctx.data.group, count)
    if count == 0:
        ctx.reply(ctx.t("setup.subgroups_off", name=ctx.data.group))
        ctx.go("done")
        return
    ctx.data.count, ctx.data.current = count, 1
    _start_subgroup(ctx)
    ctx.go("counted")


def _start_subgroup(ctx: Ctx[Setup]) -> None:
    """Mark the students of the next subgroup: who is in it already comes ticked."""
    number = ctx.data.current
    students = ctx.services.setup.students(ctx.data.group)
    ctx.data.chosen = [s.vk_id for s in students if s.subgroup == number]
    ctx.data.page = 0


def _split_view(ctx: Ctx[Setup]) -> tuple[str, list[list[KeyboardButton]]]:
    number = ctx.data.current
    items = [
        Item(
            s.vk_id,
            ctx.t("setup.in_subgroup", name=s.full_name, number=s.subgroup)
            if s.subgroup not in (None, number)
            else s.full_name,
        )
        for s in ctx.services.setup.students(ctx.data.group)
    ]
    view = STUDENTS.view(ctx, items, ctx.data.chosen, ctx.t("setup.split_done", count=len(ctx.data.chosen)))
    text = ctx.t("setup.ask_split", number=number, count=ctx.data.count, name=ctx.data.group)
    return text, view.rows


@flow.asks("split")
def ask_split(ctx: Ctx[Setup]) -> None:
    text, rows = _split_view(ctx)
    ctx.ask(text, rows)


@flow.receives("split")
def got_split(ctx: Ctx[Setup]) -> None:
    match STUDENTS.pressed(ctx):
        case "done":
            ctx.services.setup.assign_subgroup(ctx.data.group, ctx.data.current, ctx.data.chosen)
            if ctx.data.current < ctx.data.count:
                ctx.data.current += 1
                _start_subgroup(ctx)
                ctx.go("next_subgroup")
            else:
                ctx.reply(ctx.t("setup.subgroups_saved", name=ctx.data.group, count=ctx.data.count))
                ctx.go("done")
            return
        case Toggled(vk_id) if any(s.vk_id == vk_id for s in ctx.services.setup.students(ctx.data.group)):
            chosen = ctx.data.chosen
            chosen.remove(vk_id) if vk_id in chosen else chosen.append(vk_id)
        case "turned":
            pass
        case _:
            ctx.ask_again()
            return
    text, rows = _split_view(ctx)
    ctx.update(text, rows)
