"""VK API errors as the sandbox raises them.

Clients match on ``error_code`` (VK_PROTOCOL.md), so the codes must be VK's; the texts are VK's too,
so that a log line from the sandbox reads like one from production.
"""

from __future__ import annotations

from typing import Any

#: VK's own texts for the codes the sandbox can answer (from VK's error list, api version 5.199).
VK_ERROR_MESSAGES: dict[int, str] = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    9: "Flood control",
    10: "Internal server error",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    14: "Captcha needed",
    15: "Access denied",
    18: "User was deleted or banned",
    27: "Group authorization failed: method is unavailable with group auth.",
    29: "Rate limit reached",
    100: "One of the parameters specified was missing or invalid",
    113: "Invalid user id",
    121: "Invalid hash",
    125: "Invalid group id",
    900: "Can't send messages for users from blacklist",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    909: "Can't edit this message, because it's too old",
    911: "Keyboard format is invalid",
    914: "Message is too long",
    917: "You don't have access to this chat",
    920: "Can't edit this kind of message",
    924: "Can't delete this message for everybody",
    925: "You are not admin of this chat",
}


class VkError(Exception):
    """A VK API error: becomes ``{"error": {...}}`` at the top level or a per-call failure inside ``execute``."""

    def __init__(
        self, code: int, detail: str | None = None, extra: dict[str, Any] | None = None, *, text: str | None = None
    ) -> None:
        base = VK_ERROR_MESSAGES.get(code, f"Error {code} (injected by the sandbox)")
        # VK appends details after a colon: "One of the parameters ...: peer_id is undefined".
        self.code = code
        self.message = text or (f"{base}: {detail}" if detail else base)
        self.extra = extra or {}
        super().__init__(self.message)


def invalid_param(detail: str) -> VkError:
    """Error 100 with VK's wording; the most common error, so it gets a shortcut."""
    return VkError(100, detail)


def error_body(error: VkError, method: str, values: dict[str, str]) -> dict[str, Any]:
    """The ``{"error": ...}`` answer, with ``request_params`` as VK echoes them (never the token)."""
    params = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    params += [
        {"key": key, "value": value} for key, value in values.items() if key not in ("access_token", "method", "oauth")
    ]
    body: dict[str, Any] = {"error_code": error.code, "error_msg": error.message, "request_params": params}
    body.update(error.extra)
    return {"error": body}
