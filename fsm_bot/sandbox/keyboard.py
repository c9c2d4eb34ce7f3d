"""Keyboard validation with VK's limits (VK_PROTOCOL.md, "Keyboards"); a bad keyboard is error 911."""

from __future__ import annotations

import re
from typing import Any

from . import nesting
from .errors import VkError

MAX_ROW_BUTTONS = 5
LIMITS = {False: (10, 40), True: (6, 10)}  # inline -> (rows, buttons in all)
MAX_LABEL = 40
MAX_PAYLOAD = 255
COLORS = frozenset({"primary", "secondary", "default", "negative", "positive"})
ACTION_TYPES = frozenset({"text", "callback", "open_link", "location", "vkpay", "open_app"})
#: VK draws these across the whole row, so they must be alone in it (vk_api.keyboard enforces the same).
FULL_WIDTH = frozenset({"location", "vkpay", "open_app"})
NEEDS_LABEL = frozenset({"text", "callback", "open_link", "open_app"})
#: The sandbox's decision (README): the playground opens these links, so ``javascript:`` and the like are refused.
_WEB_LINK = re.compile(r"(?i:https?)://[^\x00-\x20\x7f]+")


def _bad(detail: str) -> VkError:
    return VkError(911, detail)


def parse_keyboard(raw: str) -> dict[str, Any]:
    """The keyboard object from the ``keyboard`` parameter, checked; ``{"buttons": []}`` hides the keyboard."""
    try:
        keyboard = nesting.loads(raw)
    except ValueError:
        raise _bad("keyboard is not a valid JSON") from None
    if not isinstance(keyboard, dict):
        raise _bad("keyboard must be an object")
    inline = keyboard.get("inline", False)
    one_time = keyboard.get("one_time", False)
    if not isinstance(inline, bool) or not isinstance(one_time, bool):
        raise _bad("one_time and inline must be booleans")
    if inline and one_time:
        raise _bad("an inline keyboard cannot be one_time")
    rows = keyboard.get("buttons")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad("buttons must be an array of arrays")
    max_rows, max_buttons = LIMITS[inline]
    if len(rows) > max_rows:
        raise _bad(f"too many rows: at most {max_rows}")
    if sum(len(row) for row in rows) > max_buttons:
        raise _bad(f"too many buttons: at most {max_buttons}")
    for row in rows:
        if len(row) > MAX_ROW_BUTTONS:
            raise _bad(f"too many buttons in a row: at most {MAX_ROW_BUTTONS}")
        for button in row:
            _check_button(button, alone=len(row) == 1)
    return keyboard


def _check_button(button: Any, *, alone: bool) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("action"), dict):
        raise _bad("each button must be an object with an action")
    action = button["action"]
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise _bad(f"unknown action type {kind!r}")
    if "color" in button and button["color"] not in COLORS:
        raise _bad(f"unknown color {button['color']!r}")
    if kind in FULL_WIDTH and not alone:
        raise _bad(f"a {kind} button must be alone in its row")
    label = action.get("label")
    if kind in NEEDS_LABEL and (not isinstance(label, str) or not label):
        raise _bad(f"a {kind} button needs a label")
    if isinstance(label, str) and len(label) > MAX_LABEL:
        raise _bad(f"label is longer than {MAX_LABEL} characters")
    if kind == "open_link" and not isinstance(action.get("link"), str):
        raise _bad("an open_link button needs a link")
    if kind == "open_link" and not _WEB_LINK.fullmatch(action["link"]):
        raise _bad("an open_link button's link must be an http(s) URL")
    if kind == "vkpay" and not isinstance(action.get("hash"), str):
        raise _bad("a vkpay button needs a hash")
    if kind == "open_app" and (isinstance(action.get("app_id"), bool) or not isinstance(action.get("app_id"), int)):
        raise _bad("an open_app button needs an app_id")
    payload = action.get("payload")
    if payload is not None:
        if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD:
            raise _bad(f"payload must be a JSON string of at most {MAX_PAYLOAD} characters")
        try:
            nesting.loads(payload)
        except ValueError:
            raise _bad("payload must be valid JSON") from None


def button_at(keyboard: dict[str, Any] | None, row: int, col: int) -> dict[str, Any] | None:
    """The button at ``row``/``col`` (0-based), or None."""
    rows = (keyboard or {}).get("buttons") or []
    if 0 <= row < len(rows) and 0 <= col < len(rows[row]):
        return rows[row][col]
    return None


def button_labelled(keyboard: dict[str, Any] | None, label: str) -> dict[str, Any] | None:
    """The first button whose label is ``label``, or None."""
    for row in (keyboard or {}).get("buttons") or []:
        for button in row:
            if button["action"].get("label") == label:
                return button
    return None
