"""Sending units of messages: one call alone, or up to 25 in one `execute` request.

A community token may make 20 requests per second; an execute of 25 messages.send calls is one
request, and a peer_ids call to 100 people is one call, so batching is what turns 20 requests/s
into 500 replies/s or 50,000 broadcast copies/s (VK_PROTOCOL.md, "Transport").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from fsm_bot.vk.client import Slot, VkClient
from fsm_bot.vk.errors import Outcome, VkCallError, classify
from fsm_bot.vk.messages import MAX_CALLS_PER_EXECUTE, MAX_EXECUTE_CODE, SendUnit


class PeerResult(NamedTuple):
    """What happened to one copy of a message (a named tuple: a broadcast makes one per copy, and a
    tuple costs a fraction of a frozen dataclass to build)."""

    peer_id: int
    outcome: Outcome
    message_id: int | None = None
    conversation_message_id: int | None = None
    error_code: int | None = None
    error: str | None = None


def _failed(unit: SendUnit, code: int, message: str) -> list[PeerResult]:
    outcome = classify(code)
    return [PeerResult(peer, outcome, error_code=code, error=message) for peer in unit.peer_ids]


def _read_unit_answer(unit: SendUnit, answer: Any) -> list[PeerResult]:
    if not unit.uses_peer_ids:
        message_id = int(answer) if isinstance(answer, int | str) else None
        return [PeerResult(unit.peer_ids[0], Outcome.SENT, message_id=message_id)]
    results = []
    by_peer = {int(item["peer_id"]): item for item in answer if isinstance(item, dict) and "peer_id" in item}
    for peer in unit.peer_ids:
        item = by_peer.get(peer)
        if item is None:
            results.append(PeerResult(peer, Outcome.FAILED, error="VK gave no result for this peer"))
        elif "error" in item:
            error = item["error"] or {}
            code = int(error.get("code", 0))
            results.append(PeerResult(peer, classify(code), error_code=code, error=str(error.get("description", ""))))
        else:
            results.append(
                PeerResult(
                    peer,
                    Outcome.SENT,
                    message_id=item.get("message_id"),
                    conversation_message_id=item.get("conversation_message_id"),
                )
            )
    return results


def _call_code(unit: SendUnit) -> str:
    return f"API.messages.send({json.dumps(unit.params(), ensure_ascii=False, separators=(',', ':'))})"


def execute_code(units: Sequence[SendUnit]) -> str:
    """VKScript that makes one messages.send call per unit and returns their answers in order."""
    return f"return [{','.join(_call_code(unit) for unit in units)}];"


def code_length(unit: SendUnit) -> int:
    """What one unit adds to an execute's code: long texts to many peers fill it before 25 calls do."""
    return len(_call_code(unit)) + 1


def fit_execute(units: Sequence[SendUnit], limit: int = MAX_EXECUTE_CODE) -> int:
    """How many of `units`, from the first, fit in one execute (at least one)."""
    used = len("return [];")
    for count, unit in enumerate(units[:MAX_CALLS_PER_EXECUTE]):
        used += code_length(unit)
        if used > limit and count:
            return count
    return min(len(units), MAX_CALLS_PER_EXECUTE)


def send_units(client: VkClient, units: Sequence[SendUnit], slot: Slot | None = None) -> list[list[PeerResult]]:
    """Send up to 25 units, in one request when the execute code allows; results per unit, in order.

    Raises VkAuthError and VkUnavailableError for the request as a whole; errors of single calls
    (a person who blocked the community, an inner flood error) come back as that unit's results.
    """
    if not 1 <= len(units) <= MAX_CALLS_PER_EXECUTE:
        raise ValueError(f"1..{MAX_CALLS_PER_EXECUTE} units per request, not {len(units)}")
    first = fit_execute(units)
    if first < len(units):
        # Callers size their batches to fit; this is the safety net, at the cost of another request.
        return _send_one_request(client, units[:first], slot) + send_units(client, units[first:])
    return _send_one_request(client, units, slot)


def _send_one_request(client: VkClient, units: Sequence[SendUnit], slot: Slot | None) -> list[list[PeerResult]]:
    if len(units) == 1:
        unit = units[0]
        try:
            answer = client.call("messages.send", unit.params(), slot=slot)
        except VkCallError as error:
            if type(error) is not VkCallError:  # auth, or retries ran out: the request as a whole failed
                raise
            return [_failed(unit, error.code, error.message)]
        return [_read_unit_answer(unit, answer)]

    raw = client.call("execute", {"code": execute_code(units)}, raw=True, slot=slot)
    answers = raw.get("response")
    if not isinstance(answers, list) or len(answers) != len(units):
        raise VkCallError("execute", 0, f"unexpected execute answer: {str(answers)[:200]}")
    errors = iter(raw.get("execute_errors") or [])
    results = []
    for unit, answer in zip(units, answers, strict=True):
        if answer is False:
            failure: dict[str, Any] = next(errors, {})
            results.append(_failed(unit, int(failure.get("error_code", 0)), str(failure.get("error_msg", ""))))
        else:
            results.append(_read_unit_answer(unit, answer))
    return results
