"""«напоминания»: a student's subscriptions to the timetable.

menu (what is on, and buttons to add or remove) -> a time for the digest, or minutes before class
-> back to the menu. Every kind also brings changes the headman makes («только изменения» brings
nothing else). Saving a subscription re-plans the reminder jobs after the commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from flows._context import Ctx
from fsm_bot.engine import Flow, Transition, in_study_group
from fsm_bot.services.inputs import parse_int
from fsm_bot.services.timetable import TIMETABLE_KINDS, SubscriptionKind

DIGEST_TIMES = ("19:00", "20:00", "21:00", "22:00")
LEADS = (5, 10, 15, 30, 60)


@dataclass
class Choosing:
    """Which reminder before class the minutes asked for are for."""

    kind: str = SubscriptionKind.BEFORE_FIRST.value  # before_first or before_each


flow = Flow(
    name="reminders",
    description="reminders.description",
    needs=[in_study_group("timetable.no_group")],
    states=["menu", "digest_time", "lead"],
    transitions=[
        Transition("pick_time", "menu", "digest_time"),
        Transition("pick_lead", "menu", "lead"),
        Transition("saved", ["digest_time", "lead"], "menu"),
    ],
    data=Choosing,
)


@flow.asks("menu")
def show_menu(ctx: Ctx[Choosing]) -> None:
    current = {s.kind: s for s in ctx.services.timetable.subscriptions()}
    lines = [ctx.t("reminders.header")]
    if not current:
        lines.append(ctx.t("reminders.none"))
    for kind, subscription in current.items():
        what = ctx.t(
            f"reminders.kind.{kind.value}",
            time=subscription.at_time.strftime("%H:%M") if subscription.at_time else "",
            minutes=subscription.lead_minutes or "",
        )
        lines.append(ctx.t("reminders.line", what=what))
    rows = [
        [ctx.option(ctx.t("reminders.add_digest"), "digest")],
        [
            ctx.option(ctx.t("reminders.add_before_first"), "before_first"),
            ctx.option(ctx.t("reminders.add_before_each"), "before_each"),
        ],
        [ctx.option(ctx.t("reminders.add_changes"), "changes")],
    ]
    if current:
        rows.append([ctx.option(ctx.t(f"reminders.remove.{kind.value}"), ("off", kind.value)) for kind in current][:3])
        rows.append([ctx.option(ctx.t("reminders.remove_all"), "off", "negative")])
    rows.append([ctx.option(ctx.t("reminders.done"), "done", "positive")])
    ctx.ask("\n".join(lines), rows)


@flow.receives("menu")
def got_menu(ctx: Ctx[Choosing]) -> None:
    choice = ctx.button
    timetable = ctx.services.timetable
    if choice == "done":
        ctx.finish(ctx.t("reminders.bye"))
    elif choice == "off":
        timetable.unsubscribe()
        ctx.ask_again(ctx.t("reminders.all_removed"))
    elif (kind := _removed_kind(ctx)) is not None:
        timetable.unsubscribe(kind)
        ctx.ask_again(ctx.t("reminders.removed", what=ctx.t(f"reminders.remove.{kind.value}")[2:]))
    elif choice == "digest":
        ctx.go("pick_time")
    elif choice in ("before_first", "before_each"):
        ctx.data.kind = choice
        ctx.go("pick_lead")
    elif choice == "changes":
        timetable.subscribe(SubscriptionKind.CHANGES)
        ctx.ask_again(ctx.t("reminders.saved_changes"))
    else:  # something typed instead of a button: end here rather than hold the person in this menu
        ctx.finish(ctx.t("reminders.bye"))


def _removed_kind(ctx: Ctx[Choosing]) -> SubscriptionKind | None:
    """The subscription a «✖» button names, if this is such a press."""
    match ctx.choice:
        case ("off", str(kind)) if kind in {known.value for known in TIMETABLE_KINDS}:
            return SubscriptionKind(kind)
    return None


@flow.asks("digest_time")
def ask_time(ctx: Ctx[Choosing]) -> None:
    ctx.ask(
        ctx.t("reminders.ask_time"),
        [[ctx.option(value, value, "primary" if value == "20:00" else "secondary") for value in DIGEST_TIMES]],
    )


@flow.receives("digest_time")
def got_time(ctx: Ctx[Choosing]) -> None:
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", ctx.button or ctx.text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        ctx.reply(ctx.t("reminders.bad_time"))
        return
    at = time(int(match[1]), int(match[2]))
    ctx.services.timetable.subscribe(SubscriptionKind.DIGEST, at_time=at)
    ctx.reply(ctx.t("reminders.saved_digest", time=at.strftime("%H:%M")))
    ctx.go("saved")


@flow.asks("lead")
def ask_lead(ctx: Ctx[Choosing]) -> None:
    ctx.ask(
        ctx.t("reminders.ask_lead"),
        [[ctx.option(ctx.t("reminders.minutes", minutes=lead), str(lead)) for lead in LEADS]],
    )


@flow.receives("lead")
def got_lead(ctx: Ctx[Choosing]) -> None:
    value = (ctx.button or ctx.text).strip()
    minutes = parse_int(value, 1, 240)
    if minutes is None:
        ctx.reply(ctx.t("reminders.bad_lead"))
        return
    kind = SubscriptionKind(ctx.data.kind)
    ctx.services.timetable.subscribe(kind, lead_minutes=minutes)
    ctx.reply(ctx.t(f"reminders.saved_{kind.value}", minutes=minutes))
    ctx.go("saved")
