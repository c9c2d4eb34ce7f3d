"""Every flow a package holds, found rather than listed, so a new dialog is one new module.

`flows:` in settings.yaml names flows one by one ("broadcast", "absences:notice",
"mycollege.flows.survey:flow") or a whole package ("flows", the default): a package stands for every
module-level Flow of its modules. Their order is the menu's and «помощь»'s: the modules the package lists
in `ORDER` first, as listed, then the others by name; within a module, as defined.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from types import ModuleType

from fsm_bot.engine.flow import Flow


def expand_names(names: Iterable[str]) -> list[str]:
    """The names with each package replaced by the flows it holds (each once, first mention first)."""
    expanded: list[str] = []
    for name in names:
        found = list(_flows_of_package(name)) if _is_package(name) else [name]
        expanded += [flow for flow in found if flow not in expanded]
    return expanded


def _is_package(name: str) -> bool:
    if ":" in name:
        return False
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        return False
    return hasattr(module, "__path__")


def _flows_of_package(package_name: str) -> Iterator[str]:
    package = importlib.import_module(package_name)
    modules = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))
    listed = [name for name in getattr(package, "ORDER", ()) if name in modules]
    for module_name in [*listed, *(name for name in modules if name not in listed)]:
        module = importlib.import_module(f"{package_name}.{module_name}")
        yield from _flows_of_module(module, f"{package_name}.{module_name}")


def _flows_of_module(module: ModuleType, module_name: str) -> Iterator[str]:
    for attribute, value in vars(module).items():
        if isinstance(value, Flow) and not attribute.startswith("_"):
            yield f"{module_name}:{attribute}"
