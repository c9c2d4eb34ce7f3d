"""What a VK error code means for the bot: retry, give up on this recipient, or stop.

Codes and meanings from VK_PROTOCOL.md ("Error codes worth handling"). Clients match on the
code, never on the text, which VK localizes and changes.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # 6, 9, 10, network: the same request later, with the same random_id
    CANNOT_RECEIVE = "cannot_receive"  # 900-902: the person must allow messages from the community
    GONE = "gone"  # 18, 113: deleted, banned, or not a user
    BUG = "bug"  # 100, 911, 914: our request was wrong; retrying cannot help
    DENIED = "denied"  # 7, 15, 917, 925: permissions
    AUTH = "auth"  # 5: the token is wrong or revoked; nothing will work
    FAILED = "failed"  # anything else, final


RETRYABLE_CODES = frozenset({6, 9, 10})
_OUTCOME_BY_CODE = {
    5: Outcome.AUTH,
    6: Outcome.RETRY,
    9: Outcome.RETRY,
    10: Outcome.RETRY,
    7: Outcome.DENIED,
    15: Outcome.DENIED,
    917: Outcome.DENIED,
    925: Outcome.DENIED,
    18: Outcome.GONE,
    113: Outcome.GONE,
    100: Outcome.BUG,
    911: Outcome.BUG,
    914: Outcome.BUG,
    900: Outcome.CANNOT_RECEIVE,
    901: Outcome.CANNOT_RECEIVE,
    902: Outcome.CANNOT_RECEIVE,
}


def classify(code: int) -> Outcome:
    return _OUTCOME_BY_CODE.get(code, Outcome.FAILED)


class VkCallError(Exception):
    """A VK call that ended in a final error (after retries, where retrying made sense)."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: VK error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message

    @property
    def outcome(self) -> Outcome:
        return classify(self.code)


class VkAuthError(VkCallError):
    """Error 5: the token is invalid or revoked. The bot stops with this message."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(method, code, message)
        self.args = (
            f"VK refused the community token (error {code}: {message}). Create a new key in the community's "
            "settings (Управление -> Работа с API) and put it in vk.token or FSM_BOT_VK__TOKEN.",
        )


class VkUnavailableError(VkCallError):
    """Retries ran out on errors 6/9/10 or the network; the caller may keep the work for later."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(method, code, message)
        if code == 0:  # no VK error at all: VK could not be reached
            self.args = (f"{method}: VK is unreachable: {message}",)
