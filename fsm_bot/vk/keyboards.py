"""VK keyboards as JSON, within VK's limits (VK_PROTOCOL.md, "Keyboards").

vk_api's VkKeyboard checks rows and button counts; labels over 40 characters and payloads
over 255 it passes to VK, which refuses the whole message with error 911. Labels are shortened
here at a word boundary (flows pass them whole) and payloads checked, so a long subject name or surname
never costs a student the message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

MAX_LABEL = 40
MAX_PAYLOAD = 255
MAX_INLINE_ROWS, MAX_INLINE_BUTTONS = 6, 10
MAX_ROWS, MAX_BUTTONS = 10, 40
MAX_PER_ROW = 5

Color = Literal["primary", "secondary", "positive", "negative"]


@dataclass(frozen=True)
class KeyboardButton:
    label: str
    payload: dict[str, Any]
    color: Color = "secondary"
    callback: bool = False  # a callback button answers with a snackbar and sends no message


_TRAILING = ' ,.;:·–—-(«"/'  # what a shortened label must not end with before its «…»


def shorten(label: str, limit: int = MAX_LABEL) -> str:
    """`label` within `limit` characters: whole words, then «…» («10:45 Теория вероятностей и…»), never a
    word cut in the middle; only a single word longer than the whole button is cut inside."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    room = limit - 1  # the «…» takes one
    head = label[:room] if label[room] == " " else label[:room].rpartition(" ")[0]
    head = head.rstrip(_TRAILING)
    if not head:  # one long word: nothing to keep whole
        head = label[:room].rstrip(_TRAILING) or label[:room]
    return head + "…"


def encode_payload(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_PAYLOAD:
        raise ValueError(f"button payload over {MAX_PAYLOAD} characters: {text[:60]}...")
    return text


def build_keyboard(rows: Sequence[Sequence[KeyboardButton]], inline: bool, one_time: bool = False) -> str:
    """The keyboard JSON string for messages.send; raises ValueError beyond VK's limits."""
    rows = [row for row in rows if row]
    max_rows, max_buttons = (MAX_INLINE_ROWS, MAX_INLINE_BUTTONS) if inline else (MAX_ROWS, MAX_BUTTONS)
    if len(rows) > max_rows or sum(len(row) for row in rows) > max_buttons:
        raise ValueError(f"keyboard too large: {len(rows)} rows, at most {max_rows} rows and {max_buttons} buttons")
    if any(len(row) > MAX_PER_ROW for row in rows):
        raise ValueError(f"at most {MAX_PER_ROW} buttons per row")
    return json.dumps(
        {
            "one_time": False if inline else one_time,
            "inline": inline,
            "buttons": [
                [
                    {
                        "action": {
                            "type": "callback" if button.callback else "text",
                            "label": shorten(button.label),
                            "payload": encode_payload(button.payload),
                        },
                        "color": button.color,
                    }
                    for button in row
                ]
                for row in rows
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


HIDE_KEYBOARD = json.dumps({"one_time": True, "buttons": []})
#: An edit's keyboard that takes a message's inline buttons away; VK refuses ``{}`` (error 911).
NO_BUTTONS = json.dumps({"inline": True, "buttons": []})
