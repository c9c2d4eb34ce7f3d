"""The ``groups.*`` section: the community, its members, and its Long Poll and Callback API settings."""

from __future__ import annotations

from typing import Any

from ..callback import MAX_SERVERS
from ..community_settings import SWITCHES
from ..errors import VkError, invalid_param
from .base import Call, count_param, fields_param, group_view, own_group_id

MEMBER_FILTERS = frozenset({"", "managers"})


def get_by_id(call: Call) -> dict[str, Any]:
    """5.199 shape: ``{"groups": [...], "profiles": [...]}``."""
    names = call.params.str_list("group_ids") or call.params.str_list("group_id")
    community = call.sandbox.community
    if any(n.lstrip("-") not in (str(community.group_id), community.screen_name) for n in names):
        raise VkError(100, "group_ids is invalid")
    return {"groups": [group_view(call.sandbox, fields_param(call))], "profiles": []}


def get_members(call: Call) -> dict[str, Any]:
    own_group_id(call, required=True)
    params = call.params
    offset = params.integer("offset", default=0, min_value=0) or 0
    count = count_param(call, 1000, 1000)
    kind = params.string("filter")
    if kind not in MEMBER_FILTERS:
        raise invalid_param("filter is invalid")
    sort = params.string("sort", default="id_asc")
    if sort not in ("id_asc", "id_desc"):
        raise invalid_param("sort is invalid")
    directory = call.sandbox.directory
    users = directory.managers() if kind == "managers" else directory.members()
    if sort == "id_desc":
        users.reverse()
    page = users[offset : offset + count]
    fields = fields_param(call)
    if kind == "managers":
        items: list[Any] = [{**(u.vk_view(fields) if fields else {"id": u.id}), "role": u.role} for u in page]
    elif fields:
        items = [u.vk_view(fields) for u in page]
    else:
        items = [u.id for u in page]
    return {"count": len(users), "items": items}


def is_member(call: Call) -> int:
    own_group_id(call, required=True)
    user = call.sandbox.directory.user(call.params.req_int("user_id", min_value=1))
    return int(user is not None and user.member)


def get_long_poll_server(call: Call) -> dict[str, str]:
    own_group_id(call, required=True)
    longpoll = call.sandbox.longpoll
    if not longpoll.settings.enabled:
        raise VkError(100, "Bots Long Poll API is disabled for this community")
    return {
        "key": longpoll.new_key(),
        "server": f"{call.base_url}/whp/{longpoll.group_id}",
        "ts": str(longpoll.ts),
    }


def get_long_poll_settings(call: Call) -> dict[str, Any]:
    own_group_id(call, required=True)
    settings = call.sandbox.longpoll.settings
    return {"is_enabled": settings.enabled, "api_version": settings.api_version, "events": settings.events_view()}


def set_long_poll_settings(call: Call) -> int:
    own_group_id(call, required=True)
    _require_manage(call)
    call.sandbox.longpoll.settings.update_from(call.params)
    return 1


def _require_manage(call: Call) -> None:
    """Changing the community's settings needs the key's «управление сообществом» right, as on VK."""
    if "manage" not in call.sandbox.settings.token_permissions:
        raise VkError(15, "Access denied: no access to call this method")


def get_token_permissions(call: Call) -> dict[str, Any]:
    """The rights of the calling community key: ``{"mask", "permissions": [{"setting", "name"}]}``."""
    return call.sandbox.settings.permissions_view()


def get_settings(call: Call) -> dict[str, Any]:
    """The part of ``groups.getSettings`` a bot depends on: the title and the messages section's switches."""
    own_group_id(call, required=True)
    _require_manage(call)
    return {"title": call.sandbox.community.name, **call.sandbox.settings.switches_view()}


def set_settings(call: Call) -> int:
    """``groups.setSettings``: only the messages section's switches (``messages``, ``bots_capabilities``, ...)."""
    own_group_id(call, required=True)
    _require_manage(call)
    for name in SWITCHES:
        if name in call.params.values:
            setattr(call.sandbox.settings, name, call.params.flag(name))
    return 1


def _url(call: Call) -> str:
    url = call.params.string("url", required=True, max_len=2000)
    if not url.startswith(("http://", "https://")):
        raise invalid_param("url is invalid")
    return url


def _server(call: Call) -> Any:
    server = call.sandbox.callbacks.servers.get(call.params.req_int("server_id", min_value=1))
    if server is None:
        raise invalid_param("server_id is invalid")
    return server


def add_callback_server(call: Call) -> dict[str, int]:
    own_group_id(call, required=True)
    callbacks = call.sandbox.callbacks
    if len(callbacks.servers) >= MAX_SERVERS:
        raise VkError(2000, "Servers number limit is reached")
    url = _url(call)
    title = call.params.string("title", required=True, max_len=14)
    secret = call.params.string("secret_key", max_len=50)
    return {"server_id": callbacks.add(url, title, secret).id}


def edit_callback_server(call: Call) -> int:
    own_group_id(call, required=True)
    server = _server(call)
    title = call.params.string("title", required=True, max_len=14)
    call.sandbox.callbacks.edit(server, _url(call), title, call.params.string("secret_key", max_len=50))
    return 1


def delete_callback_server(call: Call) -> int:
    own_group_id(call, required=True)
    call.sandbox.callbacks.delete(_server(call).id)
    return 1


def get_callback_servers(call: Call) -> dict[str, Any]:
    own_group_id(call, required=True)
    servers = list(call.sandbox.callbacks.servers.values())
    wanted = set(call.params.int_list("server_ids"))
    items = [s.vk_view() for s in servers if not wanted or s.id in wanted]
    return {"count": len(items), "items": items}


def get_callback_settings(call: Call) -> dict[str, Any]:
    own_group_id(call, required=True)
    settings = _server(call).settings
    return {"api_version": settings.api_version, "events": settings.events_view()}


def set_callback_settings(call: Call) -> int:
    own_group_id(call, required=True)
    _require_manage(call)
    _server(call).settings.update_from(call.params)
    return 1


def get_callback_confirmation_code(call: Call) -> dict[str, str]:
    own_group_id(call, required=True)
    return {"code": call.sandbox.callbacks.confirmation}


METHODS = {
    "groups.getById": get_by_id,
    "groups.getMembers": get_members,
    "groups.isMember": is_member,
    "groups.getLongPollServer": get_long_poll_server,
    "groups.getLongPollSettings": get_long_poll_settings,
    "groups.setLongPollSettings": set_long_poll_settings,
    "groups.getTokenPermissions": get_token_permissions,
    "groups.getSettings": get_settings,
    "groups.setSettings": set_settings,
    "groups.addCallbackServer": add_callback_server,
    "groups.editCallbackServer": edit_callback_server,
    "groups.deleteCallbackServer": delete_callback_server,
    "groups.getCallbackServers": get_callback_servers,
    "groups.getCallbackSettings": get_callback_settings,
    "groups.setCallbackSettings": set_callback_settings,
    "groups.getCallbackConfirmationCode": get_callback_confirmation_code,
}
