"""The main menu: a regular keyboard with the flows this member may start."""

from __future__ import annotations

from fsm_bot.engine.context import Command
from fsm_bot.engine.flow import Flow
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.roles import allows
from fsm_bot.texts import Texts
from fsm_bot.vk.keyboards import KeyboardButton, build_keyboard
from fsm_bot.vk.payloads import COMMAND_KEY

BUTTONS_PER_ROW = 2


def usable_flows(registry: FlowRegistry, member: MemberInfo) -> list[Flow]:
    """Flows this member may start now: by role, and only the open ones before onboarding."""
    return [
        flow for flow in registry if allows(member.role, flow.role) and (member.onboarded or flow.open_to_newcomers)
    ]


def main_menu(registry: FlowRegistry, texts: Texts, member: MemberInfo) -> str | None:
    buttons = [
        KeyboardButton(texts(flow.menu_label or f"{flow.name}.button"), {COMMAND_KEY: flow.name}, "primary")
        for flow in usable_flows(registry, member)
        if flow.in_menu
    ]
    if not buttons:
        return None
    rows = [buttons[index : index + BUTTONS_PER_ROW] for index in range(0, len(buttons), BUTTONS_PER_ROW)]
    return build_keyboard(rows[:10], inline=False)


def commands(registry: FlowRegistry, texts: Texts, member: MemberInfo) -> list[Command]:
    return [
        Command(flow.name, tuple(flow.triggers), texts(flow.description))
        for flow in usable_flows(registry, member)
        if flow.triggers
    ]
