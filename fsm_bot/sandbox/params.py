"""Typed access to a VK method's form parameters.

VK parameters arrive as strings (form-encoded, or JSON values converted by ``execute``); each accessor
checks one parameter the way VK does and raises error 100 with VK's wording when it is missing or bad.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import nesting
from .errors import invalid_param

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

_TRUE = {"1", "true", "True", "yes", "on"}
_FALSE = {"0", "false", "False", "no", "off", ""}


def to_param(value: Any) -> str | None:
    """Convert a JSON value (from ``execute`` code) into the string VK would have received over HTTP."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ",".join(p for p in (to_param(v) for v in value) if p is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class Params:
    """The parameters of one method call."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        """True when the parameter is present and not empty (VK treats ``x=`` as absent)."""
        return self.values.get(name, "") != ""

    def string(self, name: str, *, required: bool = False, default: str = "", max_len: int | None = None) -> str:
        value = self.values.get(name, "")
        if value == "":
            if required:
                raise invalid_param(f"{name} is undefined")
            return default
        if max_len is not None and len(value) > max_len:
            raise invalid_param(f"{name} is too long")
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int | None = None,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> int | None:
        raw = self.values.get(name, "")
        if raw == "":
            if required:
                raise invalid_param(f"{name} is undefined")
            return default
        value = parse_int(raw, name)
        if min_value is not None and value < min_value:
            raise invalid_param(f"{name} should be greater or equal {min_value}")
        if max_value is not None and value > max_value:
            raise invalid_param(f"{name} should be less or equal {max_value}")
        return value

    def req_int(self, name: str, *, min_value: int | None = None, max_value: int | None = None) -> int:
        """A required integer (a separate name so that type checkers know it is never None)."""
        value = self.integer(name, required=True, min_value=min_value, max_value=max_value)
        assert value is not None
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.values.get(name)
        if raw is None:
            return default
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise invalid_param(f"{name} should be 0 or 1")

    def int_list(self, name: str, *, required: bool = False, max_items: int | None = None) -> list[int]:
        raw = self.values.get(name, "")
        if raw.strip() == "":
            if required:
                raise invalid_param(f"{name} is undefined")
            return []
        items = [parse_int(part, name) for part in raw.split(",") if part.strip() != ""]
        if max_items is not None and len(items) > max_items:
            raise invalid_param(f"{name} is too long, max {max_items} items")
        return items

    def str_list(self, name: str) -> list[str]:
        return [part.strip() for part in self.values.get(name, "").split(",") if part.strip()]

    def json_value(self, name: str) -> Any:
        """A parameter that carries JSON (``keyboard``, ``forward``, ``event_data``); None when absent."""
        raw = self.values.get(name, "")
        if raw == "":
            return None
        try:
            return nesting.loads(raw)
        except ValueError:
            raise invalid_param(f"{name} is not a valid JSON") from None


def parse_int(raw: str, name: str) -> int:
    """An integer the way VK reads one: optional sign and digits, nothing else, within int64."""
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise invalid_param(f"{name} not integer")
    return int(text)
