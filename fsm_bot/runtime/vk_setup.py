"""`fsm-bot setup`: switch on in VK what the bot needs, when the key may (its administration right).

What it changes: community messages and bot features (`groups.setSettings`), and the Long Poll API (on, the
bot's API version, its events: `groups.setLongPollSettings`) or, in callback mode, the same version and events on
every Callback API server already added (`groups.setCallbackSettings`; adding the server needs the bot's public
URL, which only the deployer knows). Events the community had switched on for other programs stay on.
"""

from __future__ import annotations

from fsm_bot.config import Settings
from fsm_bot.runtime.doctor import REQUIRED_EVENTS, REQUIRED_RIGHTS
from fsm_bot.runtime.vk_probe import ProbeError, VkProbe


def set_up_community(settings: Settings) -> list[str]:
    """What was switched on, one line each; ProbeError when VK refuses (a key without the right: error 15)."""
    group_id = int(settings.vk.group_id or 0)
    probe = VkProbe(settings.vk.api_url, settings.vk.all_tokens()[0], settings.vk.api_version)
    done = []
    try:
        rights = {item.get("name") for item in probe.call("groups.getTokenPermissions").get("permissions", [])}
        if "manage" not in rights:
            raise ProbeError(
                "groups.getTokenPermissions",
                15,
                f"the key has no administration right («{REQUIRED_RIGHTS['manage']}»): create one that has it, "
                "or switch things on by hand as `fsm-bot doctor` says",
            )
        current = probe.call("groups.getSettings", group_id=group_id)
        switches = {name: 1 for name in ("messages", "bots_capabilities") if not current.get(name)}
        if switches:
            probe.call("groups.setSettings", group_id=group_id, **switches)
            done.append(f"switched on: {', '.join(switches)}")
        events = {event: 1 for event in REQUIRED_EVENTS}
        if settings.vk.mode == "longpoll":
            probe.call(
                "groups.setLongPollSettings",
                group_id=group_id,
                enabled=1,
                api_version=settings.vk.api_version,
                **events,
            )
            done.append(f"Long Poll API: on, API {settings.vk.api_version}, events {', '.join(REQUIRED_EVENTS)}")
        else:
            servers = probe.call("groups.getCallbackServers", group_id=group_id).get("items", [])
            for server in servers:
                probe.call(
                    "groups.setCallbackSettings",
                    group_id=group_id,
                    server_id=server["id"],
                    api_version=settings.vk.api_version,
                    **events,
                )
                done.append(f"Callback API server {server.get('url')}: API {settings.vk.api_version}, the bot's events")
            if not servers:
                done.append("Callback API: no server to set up yet (add the bot's public URL in VK first)")
    finally:
        probe.close()
    return done
