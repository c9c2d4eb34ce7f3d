"""Failures on demand: the next ``count`` matching requests fail the way a test asked for."""

from __future__ import annotations

from dataclasses import dataclass

LONGPOLL = "longpoll"
CALLBACK = "callback"  # pushes to the callback servers: kind "drop" loses them as VK does after giving up
LONGPOLL_KINDS = frozenset({"failed_1", "failed_2", "failed_3"})
TRANSPORT_KINDS = frozenset({"http_500", "disconnect"})

Kind = int | str


@dataclass
class Fault:
    target: str
    kind: Kind
    remaining: int


def check_fault(target: str, kind: object, count: object) -> str | None:
    """Why a requested fault makes no sense, or None; the control API answers 400 with this text."""
    if not isinstance(target, str) or not target:
        return "target must be a method name, '*', 'longpoll' or 'callback'"
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1_000_000:
        return "count must be an integer from 1 to 1000000"
    if target == CALLBACK or kind == "drop":
        return None if (target, kind) == (CALLBACK, "drop") else "the callback target takes kind 'drop' only"
    if isinstance(kind, bool):
        return "kind must be a VK error code or one of http_500, disconnect, failed_1, failed_2, failed_3"
    if isinstance(kind, int):
        if not 1 <= kind <= 100_000:
            return "kind: VK error codes are positive integers"
        if target == LONGPOLL:
            return "the long poll server answers no VK error codes; use failed_1/2/3, http_500 or disconnect"
        return None
    if kind in TRANSPORT_KINDS:
        return None
    if kind in LONGPOLL_KINDS:
        return None if target == LONGPOLL else f"{kind} only applies to target 'longpoll'"
    return "kind must be a VK error code or one of http_500, disconnect, failed_1, failed_2, failed_3"


class Faults:
    """Pending faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(self, target: str, kind: Kind, count: int) -> None:
        self._pending.append(Fault(target, kind, count))

    def take(self, target: str, *, inner: bool = False) -> Kind | None:
        """The kind of the first fault matching this request, using one of its ``count``.

        ``"*"`` matches every method call but not the long poll; inside ``execute`` (``inner``) only faults
        naming the method exactly and carrying a VK error code apply, so a test can make one call of a
        batch fail the way VK would.
        """
        for fault in self._pending:
            if inner:
                matches = fault.target == target and isinstance(fault.kind, int)
            else:
                matches = fault.target == target or (fault.target == "*" and target not in (LONGPOLL, CALLBACK))
            if matches:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._pending.remove(fault)
                return fault.kind
        return None

    def __len__(self) -> int:
        return len(self._pending)
