"""VK API methods the sandbox implements, one module per section, and the dispatcher over them."""

from __future__ import annotations

from typing import Any

from ..errors import VkError
from ..params import Params
from . import conversations, execute, groups, messages, uploads, users
from .base import Call, Handler

METHODS: dict[str, Handler] = {
    **messages.METHODS,
    **conversations.METHODS,
    **groups.METHODS,
    **users.METHODS,
    **uploads.METHODS,
    **execute.METHODS,
}


def dispatch(call: Call, method: str, params: Params) -> Any:
    """Run one method (top level or inside ``execute``); counts it in ``stats.calls``.

    Inside ``execute`` a fault injected for this exact method fails the nested call the way VK would.
    """
    handler = METHODS.get(method)
    if handler is None:
        raise VkError(3)
    sandbox = call.sandbox
    sandbox.stats.calls[method] += 1
    if call.inner:
        kind = sandbox.faults.take(method, inner=True)
        if isinstance(kind, int):
            raise VkError(kind)
    return handler(call)


ExecuteResult = execute.ExecuteResult

__all__ = ["METHODS", "Call", "ExecuteResult", "dispatch"]
