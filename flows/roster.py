"""«список группы»: the headman sends the group's list (a document or pasted lines); the bot shows what it
understood, matches each line to a member (VK id or link, then the name), asks about a name two members
share, names who has not joined the community yet with the link to forward, and saves the list: members
join the group, and people without VK still get a row in the attendance register.

list (the list) -> [which: one question per shared name] -> confirm -> saved
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows._context import Ctx
from fsm_bot.engine import MAX_LABEL, Flow, Role, Texts, Transition, in_study_group, shorten
from fsm_bot.services.roster_files import RosterLine, RosterUnreadable

MAX_NAMED = 40  # names listed in one answer; a list this long is read in the register anyway
MAX_CANDIDATES = 6  # buttons for one shared name (plus «нет в VK»)


@dataclass
class RosterDraft:
    """The list as read, and the member each line stands for (line numbers are 0-based, as text keys)."""

    lines: list[list[Any]] = field(default_factory=list)  # [last, first, vk_id or None]
    chosen: dict[str, int] = field(default_factory=dict)  # line -> vk id
    open: dict[str, list[int]] = field(default_factory=dict)  # line -> candidates, still to ask
    missing: list[int] = field(default_factory=list)  # lines of people not in the community


flow = Flow(
    name="roster",
    description="roster.description",
    role=Role.DEPUTY,
    takes_text=True,  # «список группы» and the lines in one message
    needs=[in_study_group("roster.no_group")],
    states=["list", "which", "confirm"],
    transitions=[
        Transition("read", "list", "which", when=lambda ctx: bool(ctx.data.open)),
        Transition("read", "list", "confirm"),
        Transition("resolved", "which", "which", when=lambda ctx: bool(ctx.data.open)),
        Transition("resolved", "which", "confirm"),
        Transition("again", "confirm", "list"),
    ],
    data=RosterDraft,
)


def _lines(ctx: Ctx[RosterDraft]) -> list[RosterLine]:
    return [RosterLine(last, first, vk_id) for last, first, vk_id in ctx.data.lines]


def _names(ctx: Ctx[RosterDraft], lines: list[RosterLine], indexes: list[int]) -> str:
    named = ", ".join(lines[index].full_name for index in indexes[:MAX_NAMED])
    more = len(indexes) - MAX_NAMED
    return ctx.t("roster.names_more", names=named, more=more) if more > 0 else named


def person_button(t: Texts, name: str, vk_id: int) -> str:
    """«Name (id123)» within VK's 40 characters: the id tells two namesakes apart, so the name gives way, at a
    word boundary, and the id stays whole."""
    label = t("roster.person_button", name=name, vk_id=vk_id)
    if len(label) <= MAX_LABEL:
        return label
    room = MAX_LABEL - (len(label) - len(name))
    return t("roster.person_button", name=shorten(name, room), vk_id=vk_id)


@flow.asks("list")
def ask_list(ctx: Ctx[RosterDraft]) -> None:
    ctx.ask(
        ctx.t("roster.ask_list", group=ctx.member.study_group),
        [[ctx.option(ctx.t("roster.keep"), "keep", "negative")]],
    )


@flow.receives("list")
def got_list(ctx: Ctx[RosterDraft]) -> None:
    if ctx.button == "keep":
        ctx.finish(ctx.t("roster.kept"))
        return
    try:
        roster = ctx.services.roster.read(ctx.text, ctx.event.attachments)
    except RosterUnreadable as error:
        ctx.ask_again(ctx.t(f"roster.{error.key}", **error.values))
        return
    if not roster.people:
        ctx.ask_again(ctx.t("roster.empty"))
        return
    if roster.problems:
        lines = "\n".join(ctx.t("roster.problem", line=p.line, text=p.text) for p in roster.problems[:10])
        ctx.reply(ctx.t("roster.problems", count=len(roster.problems), lines=lines))
    match = ctx.services.roster.match(roster.people)
    ctx.data.lines = [[p.last_name, p.first_name, p.vk_id] for p in roster.people]
    ctx.data.chosen = {str(index): vk_id for index, vk_id in match.matched.items()}
    ctx.data.open = {
        str(index): [person.vk_id for person in people[:MAX_CANDIDATES]] for index, people in match.ambiguous.items()
    }
    ctx.data.missing = list(match.missing)
    ctx.go("read")


@flow.asks("which")
def ask_which(ctx: Ctx[RosterDraft]) -> None:
    line, candidates = next(iter(ctx.data.open.items()))
    name = _lines(ctx)[int(line)].full_name
    rows = []
    for vk_id in candidates:
        person = ctx.services.roster.person(vk_id)
        label = person_button(ctx.t, person.full_name if person else str(vk_id), vk_id)
        rows.append([ctx.option(label, ("m", int(line), vk_id))])
    rows.append([ctx.option(ctx.t("roster.none_of_them"), ("m", int(line), 0))])
    ctx.ask(ctx.t("roster.which", name=name), rows)


@flow.receives("which")
def got_which(ctx: Ctx[RosterDraft]) -> None:
    choice = ctx.choice
    if choice is None or len(choice) != 3 or choice[0] != "m" or str(choice[1]) not in ctx.data.open:
        ctx.ask_again()
        return
    _, line, vk_id = choice
    candidates = ctx.data.open.pop(str(line))
    if vk_id in candidates:
        ctx.data.chosen[str(line)] = int(vk_id)
    else:
        ctx.data.missing.append(int(line))
    # A member chosen for one line is no longer a candidate for the others.
    for other, people in list(ctx.data.open.items()):
        left = [person for person in people if person not in ctx.data.chosen.values()]
        if len(left) == 1 and len(people) > 1:
            del ctx.data.open[other]
            ctx.data.chosen[other] = left[0]
        elif not left:
            del ctx.data.open[other]
            ctx.data.missing.append(int(other))
        else:
            ctx.data.open[other] = left
    ctx.go("resolved")


@flow.asks("confirm")
def ask_confirm(ctx: Ctx[RosterDraft]) -> None:
    lines = _lines(ctx)
    missing = sorted(ctx.data.missing)
    text = [ctx.t("roster.understood", count=len(lines), found=len(ctx.data.chosen), group=ctx.member.study_group)]
    if missing:
        text.append(ctx.t("roster.not_joined", count=len(missing), names=_names(ctx, lines, missing)))
        text.append(ctx.t("roster.invite", link=ctx.services.roster.invite_link()))
    ctx.ask(
        "\n\n".join(text),
        [[ctx.option(ctx.t("roster.save"), "save", "positive"), ctx.option(ctx.t("roster.again"), "again")]],
    )


@flow.receives("confirm")
def got_confirm(ctx: Ctx[RosterDraft]) -> None:
    if ctx.button == "again":
        ctx.go("again")
        return
    if ctx.button != "save":
        ctx.ask_again()
        return
    chosen = {int(line): vk_id for line, vk_id in ctx.data.chosen.items()}
    saved = ctx.services.roster.save(_lines(ctx), chosen)
    text = ctx.t(
        "roster.saved",
        group=ctx.member.study_group,
        placed=saved.placed,
        offline=saved.offline,
        expected=saved.expected,
    )
    if saved.merged:
        text += "\n" + ctx.t("roster.merged", count=saved.merged)
    ctx.finish(text)
