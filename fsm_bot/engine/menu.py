"""The main menu: a regular keyboard with the flows this member may start."""

from __future__ import annotations

from fsm_bot.engine.context import Command
from fsm_bot.engine.flow import Flow, Need
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import allows
from fsm_bot.storage.models import Role
from fsm_bot.texts import Texts
from fsm_bot.vk.keyboards import KeyboardButton, build_keyboard
from fsm_bot.vk.payloads import COMMAND_KEY

BUTTONS_PER_ROW = 2


def usable_flows(registry: FlowRegistry, member: MemberInfo) -> list[Flow]:
    """Flows this member may start now: by role, only the open ones before onboarding, and none whose needs
    the member alone already fails (a stream admin is in no study group: no «Мои пропуски» for her)."""
    return [
        flow
        for flow in registry
        if allows(member.role, flow.role) and (member.onboarded or flow.open_to_newcomers) and meets_needs(flow, member)
    ]


def meets_needs(flow: Flow, member: MemberInfo) -> bool:
    """Whether the member passes every need of the flow that reads only the member (Need.of_member); needs that
    read data (a loaded timetable) are the flow's to answer when it starts."""
    return all(guard.of_member(member) for guard in flow.needs if isinstance(guard, Need) and guard.of_member)


def main_menu(registry: FlowRegistry, texts: Texts, member: MemberInfo, in_chat: bool = False) -> str | None:
    """The member's menu; in a group chat everyone there sees (and may press) the keyboard whoever asked for
    it gets, so it holds only what every student may use: a leader's «Посещаемость» would only refuse them."""
    buttons = [
        KeyboardButton(texts(flow.menu_label or f"{flow.name}.button"), {COMMAND_KEY: flow.name}, "primary")
        for flow in usable_flows(registry, member)
        if flow.in_menu and (not in_chat or allows(Role.STUDENT, flow.role))
    ]
    if not buttons:
        return None
    rows = [buttons[index : index + BUTTONS_PER_ROW] for index in range(0, len(buttons), BUTTONS_PER_ROW)]
    return build_keyboard(rows[:10], inline=False)


def commands(registry: FlowRegistry, texts: Texts, member: MemberInfo) -> list[Command]:
    """What this member may type, in their language: a flow's words from their catalog (`<flow>.triggers`)."""
    listed = [(flow, trigger_words(flow, texts)) for flow in usable_flows(registry, member)]
    return [Command(flow.name, words, texts(flow.description)) for flow, words in listed if words]


def trigger_words(flow: Flow, texts: Texts) -> tuple[str, ...]:
    key = f"{flow.name}.triggers"
    return tuple(texts.variants(key)) if texts.has(key) else tuple(flow.triggers)
