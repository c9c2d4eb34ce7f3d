"""``users.get``, ``utils.getServerTime`` and ``utils.resolveScreenName``."""

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


def resolve_screen_name(call: Call) -> dict[str, Any] | list[Any]:
    """What a vk.com/<name> address is: ``{"type": "user", "object_id": 1}`` (or the community, "group"),
    and VK's empty list, not an error, for a name nobody has. A deleted user's page still resolves."""
    name = call.params.values.get("screen_name", "").strip().strip("/").rsplit("/", 1)[-1]
    if not name:
        raise invalid_param("screen_name is undefined")
    community = call.sandbox.community
    if name.lower() in (community.screen_name, f"public{community.group_id}"):
        return {"type": "group", "object_id": community.group_id}
    user = call.sandbox.directory.by_screen_name(name)
    return [] if user is None else {"type": "user", "object_id": user.id}


METHODS = {
    "users.get": get,
    "utils.getServerTime": get_server_time,
    "utils.resolveScreenName": resolve_screen_name,
}
