"""``users.get`` and ``utils.getServerTime``."""

from __future__ import annotations

import time
from typing import Any

from ..errors import VkError, invalid_param
from ..params import parse_int
from .base import Call, fields_param

MAX_USER_IDS = 1000


def get(call: Call) -> list[dict[str, Any]]:
    """Known users in the order asked; unknown ids are left out (error 113 only when none is valid)."""
    names = call.params.str_list("user_ids") or call.params.str_list("user_id")
    if len(names) > MAX_USER_IDS:
        raise invalid_param(f"user_ids is too long, max {MAX_USER_IDS}")
    ids = []
    for name in names:
        raw = name[2:] if name.startswith("id") else name
        try:
            ids.append(parse_int(raw, "user_ids"))
        except VkError:
            raise VkError(113) from None
    directory = call.sandbox.directory
    found = [directory.users[i] for i in ids if i in directory.users]
    if ids and not found:
        raise VkError(113)
    fields = fields_param(call)
    return [user.vk_view(fields) for user in found]


def get_server_time(call: Call) -> int:
    return int(time.time())


METHODS = {"users.get": get, "utils.getServerTime": get_server_time}
