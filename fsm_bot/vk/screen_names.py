"""Short VK addresses (vk.com/olga_b) to user ids, with `utils.resolveScreenName`, 25 per `execute`.

A group's list often gives people's pages by their chosen address rather than vk.com/id123; only VK knows
whose address it is. VK answers `{"type": "user", "object_id": 123}`, or an empty list for a name nobody
has (VK_PROTOCOL.md: 25 calls in one execute, one request of the token's 20 a second).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from fsm_bot.vk.client import VkClient

EXECUTE_CALLS = 25
SCREEN_NAME = re.compile(r"[A-Za-z0-9_.]{2,32}")  # what VK allows in an address; the rest is never sent


def resolve_screen_names(client: VkClient, names: Sequence[str]) -> dict[str, int]:
    """The user id of each of `names` VK knows as a user's address (lower-cased keys); communities, apps and
    unknown names are left out. VK errors propagate (VkCallError): the caller decides what a list without
    these ids is worth."""
    wanted = sorted({name.lower() for name in names if SCREEN_NAME.fullmatch(name)})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), EXECUTE_CALLS):
        chunk = wanted[start : start + EXECUTE_CALLS]
        calls = ",".join(
            f"API.utils.resolveScreenName({{{json.dumps('screen_name')}: {json.dumps(name)}}})" for name in chunk
        )
        answers = client.call("execute", {"code": f"return [{calls}];"})
        for name, answer in zip(chunk, answers or [], strict=False):
            if isinstance(answer, dict) and answer.get("type") == "user" and isinstance(answer.get("object_id"), int):
                found[name] = answer["object_id"]
    return found
