"""JSON from outside with a bound on its nesting, so that hostile input is a 4xx and never a 500.

``json.loads`` recurses once per level: ``"[" * 100000`` raises ``RecursionError`` (not ``ValueError``), and a
value that parses just under the interpreter's limit can still fail later, when an answer that embeds it
(a message view inside a long poll update, inside a poll answer) is encoded a few levels deeper. So
everything the sandbox parses goes through :func:`loads`, which refuses more than ``MAX_DEPTH`` levels.
VK's own objects are shallow: a keyboard is 5 levels, a photo attachment 4, and forwarded messages nest
at most 45 deep (VK's message object reference), 2 levels each.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 128


class TooDeep(ValueError):
    """JSON nested deeper than allowed; a ``ValueError``, so callers that refuse bad JSON refuse it too."""


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Levels of lists and objects in ``value`` (0 for a scalar), counted without recursion; stops past ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((child, level) for child in children)
    return deepest


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """``value`` itself, or :class:`TooDeep` when it nests more than ``limit`` levels."""
    if depth(value, limit) > limit:
        raise TooDeep(f"nested deeper than {limit} levels")
    return value


class NotText(ValueError):
    """A string with half of a UTF-16 pair alone (JSON can escape one: ``"\\ud800"``): VK's text is
    always valid Unicode, and such a string cannot be written back out as UTF-8, so answering it later
    (a long poll update for everyone) would fail."""


def loads(raw: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises ``ValueError`` (:class:`TooDeep`, :class:`NotText`) for nesting and for
    lone surrogates, never ``RecursionError``."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TooDeep(f"nested deeper than {limit} levels") from None
    check_depth(value, limit)
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise NotText("text with a lone UTF-16 surrogate, which VK never carries") from None
    return value
