"""What a VK method handler receives, and the helpers several sections share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import VkError, invalid_param
from ..params import Params

if TYPE_CHECKING:
    from ..state import Sandbox


@dataclass
class Call:
    """One method call: the sandbox, its parameters, and how to make nested calls (for ``execute``)."""

    sandbox: Sandbox
    params: Params
    method: str
    base_url: str
    inner: bool = False
    dispatch: Callable[[Call, str, Params], Any] | None = None


Handler = Callable[[Call], Any]


def own_group_id(call: Call, name: str = "group_id", *, required: bool = False) -> int:
    """The community's id; a community token can only act for its own community (error 125 otherwise)."""
    group_id = call.sandbox.community.group_id
    raw = call.params.string(name, required=required)
    if raw and raw.lstrip("-") not in (str(group_id), call.sandbox.community.screen_name):
        raise VkError(125)
    return group_id


def fields_param(call: Call) -> list[str]:
    return call.params.str_list("fields")


def count_param(call: Call, default: int, maximum: int) -> int:
    value = call.params.integer("count", default=default, min_value=0)
    assert value is not None
    if value > maximum:
        raise invalid_param(f"count should be less or equal {maximum}")
    return value


def group_view(sandbox: Sandbox, fields: list[str]) -> dict[str, Any]:
    """The community as ``groups.getById`` and ``extended=1`` answers show it."""
    community = sandbox.community
    view: dict[str, Any] = {
        "id": community.group_id,
        "name": community.name,
        "screen_name": community.screen_name,
        "is_closed": 0,
        "type": "group",
        "photo_50": "https://vk.ru/images/community_50.png",
        "photo_100": "https://vk.ru/images/community_100.png",
        "photo_200": "https://vk.ru/images/community_200.png",
    }
    if "members_count" in fields:
        view["members_count"] = len(sandbox.directory.members())
    if "can_message" in fields:
        view["can_message"] = 1
    return view


def extended_view(call: Call, ids: set[int]) -> dict[str, Any]:
    """``profiles`` (the known users among ``ids``, with ``fields``) and ``groups`` of an ``extended=1`` answer."""
    directory = call.sandbox.directory
    users = [directory.users[i] for i in sorted(ids) if i in directory.users]
    return {"profiles": [u.vk_view(fields_param(call)) for u in users], "groups": [group_view(call.sandbox, [])]}
