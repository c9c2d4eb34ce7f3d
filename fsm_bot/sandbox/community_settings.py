"""The community's own switches that a bot depends on, as VK keeps them: messages on, bot features on, and the
rights of the access key (what ``groups.getSettings`` and ``groups.getTokenPermissions`` answer).

A fresh sandbox has everything a bot needs switched on, like a community set up by the README's steps; tests and
``fsm-bot doctor`` turn pieces off through ``PATCH /sandbox/community`` or VK's ``groups.setSettings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Rights a community access key can carry (VK's bit masks for community tokens).
TOKEN_PERMISSIONS = {"stories": 1, "photos": 4, "app_widget": 64, "messages": 4096, "docs": 131072, "manage": 262144}

#: ``groups.getSettings`` / ``groups.setSettings`` switches of the messages section.
SWITCHES = ("messages", "bots_capabilities", "bots_start_button", "bots_add_to_chat")


@dataclass
class CommunitySettings:
    messages: bool = True
    bots_capabilities: bool = True
    bots_start_button: bool = True
    bots_add_to_chat: bool = True
    token_permissions: set[str] = field(default_factory=lambda: set(TOKEN_PERMISSIONS))

    def permissions_view(self) -> dict[str, Any]:
        """``groups.getTokenPermissions``: ``{"mask", "permissions": [{"setting", "name"}]}``."""
        granted = [name for name in TOKEN_PERMISSIONS if name in self.token_permissions]
        return {
            "mask": sum(TOKEN_PERMISSIONS[name] for name in granted),
            "permissions": [{"setting": TOKEN_PERMISSIONS[name], "name": name} for name in granted],
        }

    def switches_view(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in SWITCHES}

    def control_view(self) -> dict[str, Any]:
        return {
            **{name: bool(getattr(self, name)) for name in SWITCHES},
            "token_permissions": sorted(self.token_permissions),
        }
