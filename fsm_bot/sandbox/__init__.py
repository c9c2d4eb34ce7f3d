"""A local VK for trying and testing the bot: VK's API, Bots Long Poll, Callback API push and a control API.

It imports nothing of the bot: any VK client (vk_api, vkbottle, ...) can use it. See README.md beside this
file; pytest fixtures are in :mod:`fsm_bot.sandbox.fixtures`.
"""

from .app import create_app
from .client import SandboxClient, SandboxError, vk_session_for
from .demo import DEMO_STREAM, DemoPerson
from .server import SandboxServer, serve
from .state import GROUP_ID, TOKENS, Sandbox

__all__ = [
    "DEMO_STREAM",
    "GROUP_ID",
    "TOKENS",
    "DemoPerson",
    "Sandbox",
    "SandboxClient",
    "SandboxError",
    "SandboxServer",
    "create_app",
    "serve",
    "vk_session_for",
]
