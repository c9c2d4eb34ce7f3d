"""The enabled flows, found by the names settings.yaml lists (the seed's connect_commands).

A name is a module in the `flows` package (`broadcast`) or a dotted path with an attribute
(`mycollege.flows.survey:flow`), so a deployment can add its own dialogs without forking.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator

from fsm_bot.engine.discovery import expand_names
from fsm_bot.engine.flow import Flow, Need
from fsm_bot.folding import fold


class FlowNotFound(LookupError):
    pass


def load_flow(name: str) -> Flow:
    module_name, _, attribute = name.partition(":")
    if "." not in module_name:
        module_name = f"flows.{module_name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise FlowNotFound(f"flow {name!r}: no module {module_name!r}") from error
    flow = getattr(module, attribute or "flow", None)
    if not isinstance(flow, Flow):
        raise FlowNotFound(f"flow {name!r}: {module_name} has no Flow named {attribute or 'flow'!r}")
    return flow


class FlowRegistry:
    def __init__(self, flows: Iterable[Flow]) -> None:
        self._flows: dict[str, Flow] = {}
        self._by_trigger: dict[str, Flow] = {}
        for flow in flows:
            if flow.name in self._flows:
                raise ValueError(f"two flows are named {flow.name!r}")
            self._flows[flow.name] = flow
            for trigger in flow.triggers:
                word = normalize(trigger)
                if word in self._by_trigger:
                    raise ValueError(f"{word!r} starts both {self._by_trigger[word].name!r} and {flow.name!r}")
                self._by_trigger[word] = flow

    @classmethod
    def from_names(cls, names: Iterable[str]) -> FlowRegistry:
        """Flows by name; a package name ("flows") stands for every flow it holds (discovery.py)."""
        return cls(load_flow(name) for name in expand_names(names))

    def missing_texts(self, has_text: Callable[[str], bool]) -> list[str]:
        """Text keys the enabled flows need and the catalog lacks: checked at start, not in front of a student."""
        needed = []
        for flow in self._flows.values():
            needed.append(flow.description)
            needed += [guard.refusal for guard in flow.needs if isinstance(guard, Need)]
            if flow.in_menu:
                needed.append(flow.menu_label or f"{flow.name}.button")
        return [key for key in needed if not has_text(key)]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._flows)

    def get(self, name: str) -> Flow | None:
        return self._flows.get(name)

    def by_trigger(self, text: str) -> Flow | None:
        return self._by_trigger.get(normalize(text))

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())


def normalize(text: str) -> str:
    """Triggers match case-insensitively, with leading/trailing spaces and ё/е differences ignored."""
    return " ".join(fold(text).split())
