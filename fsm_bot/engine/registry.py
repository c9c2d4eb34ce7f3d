"""The enabled flows, found by the names settings.yaml lists (the seed's connect_commands).

A name is a module in the `flows` package (`broadcast`) or a dotted path with an attribute
(`mycollege.flows.survey:flow`), so a deployment can add its own dialogs without forking.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from fsm_bot.engine.discovery import expand_names
from fsm_bot.engine.flow import Flow, Need
from fsm_bot.folding import fold
from fsm_bot.texts import LOCALES, Catalogs
from fsm_bot.vk.files import documents_of


class FlowNotFound(LookupError):
    pass


def _module_name(name: str) -> str:
    """The module a flow name points at: `broadcast` is `flows.broadcast`, a dotted path is itself."""
    module_name = name.partition(":")[0]
    return module_name if "." in module_name else f"flows.{module_name}"


def load_flow(name: str) -> Flow:
    module_name, attribute = _module_name(name), name.partition(":")[2]
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
        self._with_text: dict[str, Flow] = {}  # the triggers of flows that take text after them
        self._by_document: dict[str, Flow] = {}  # document extensions of flows that take them
        self.when_invited: Flow | None = None  # the flow a chat_invite_user of the community starts
        self._longest = 0
        for flow in flows:
            if flow.name in self._flows:
                raise ValueError(f"two flows are named {flow.name!r}")
            self._flows[flow.name] = flow
            if flow.starts_when_invited:
                if self.when_invited is not None:
                    raise ValueError(f"both {self.when_invited.name!r} and {flow.name!r} start when invited")
                self.when_invited = flow
            for trigger in flow.triggers:
                self._add_trigger(trigger, flow)
            for extension in flow.takes_documents if flow.is_dialog else ():
                ext = extension.lower().lstrip(".")
                if ext in self._by_document:
                    raise ValueError(f"a .{ext} document starts both {self._by_document[ext].name!r} and {flow.name!r}")
                self._by_document[ext] = flow

    def _add_trigger(self, trigger: str, flow: Flow) -> None:
        word = normalize(trigger)
        known = self._by_trigger.get(word)
        if known is not None and known is not flow:
            raise ValueError(f"{word!r} starts both {known.name!r} and {flow.name!r}")
        self._by_trigger[word] = flow
        if flow.takes_text and flow.is_dialog:
            self._with_text[word] = flow
            self._longest = max(self._longest, len(word.split()))

    def learn_triggers(self, words_of: Callable[[str], list[str]]) -> None:
        """Add the words the catalogs give each flow (`<flow>.triggers`, every language's): what a person
        types is a word of their language, so it lives with the texts, not in the code."""
        for flow in self._flows.values():
            for trigger in words_of(f"{flow.name}.triggers"):
                self._add_trigger(trigger, flow)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> FlowRegistry:
        """Flows by name; a package name ("flows") stands for every flow it holds (discovery.py). Their
        words come from the catalogs beside their modules (`<package>/locales/`), every language's."""
        expanded = list(expand_names(names))
        registry = cls(load_flow(name) for name in expanded)
        folders = {folder for name in expanded if (folder := _catalog_folder(name)) is not None}
        if folders:
            registry.learn_triggers(Catalogs.load(LOCALES[0], sorted(folders)).words)
        return registry

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

    def with_text(self, text: str) -> tuple[Flow, str] | None:
        """A trigger followed by text, for a flow that takes it: `.mb Завтра пар нет` -> (broadcast,
        «Завтра пар нет»). The longest trigger wins («рассылка админам ...» over «рассылка ...»)."""
        for count in range(self._longest, 0, -1):
            head = re.match(rf"\s*(?:\S+\s+){{{count}}}", text)
            if head is None:
                continue
            rest = text[head.end() :].strip()
            flow = self._with_text.get(normalize(head.group()))
            if flow is not None and rest:
                return flow, rest
        return None

    def by_document(self, attachments: tuple[dict[str, Any], ...]) -> Flow | None:
        """The flow a message's document is the first answer of (Flow.takes_documents), by its extension."""
        for document in documents_of(attachments):
            if (flow := self._by_document.get(document.ext)) is not None:
                return flow
        return None

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._flows.values())


def _catalog_folder(name: str) -> Path | None:
    """The `locales` folder of the package a flow's module is in, if it has one."""
    module = importlib.import_module(_module_name(name))  # loaded already by load_flow
    folder = Path(module.__file__ or "").parent / "locales"
    return folder if folder.is_dir() else None


def normalize(text: str) -> str:
    """Triggers match case-insensitively, with leading/trailing spaces and ё/е differences ignored."""
    return " ".join(fold(text).split())
