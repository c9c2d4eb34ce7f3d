"""A new dialog is one module: every flow of the flows/ package is on by default, in the menu's order."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import flows
from fsm_bot.config import DEFAULT_FLOWS, Settings
from fsm_bot.engine.flow import Flow
from fsm_bot.engine.registry import FlowRegistry


def test_every_flow_of_the_package_is_on_by_default_in_the_menus_order() -> None:
    defined = {
        value.name
        for info in pkgutil.iter_modules(flows.__path__)
        for value in vars(importlib.import_module(f"flows.{info.name}")).values()
        if isinstance(value, Flow)
    }
    enabled = [flow.name for flow in FlowRegistry.from_names(Settings().flows)]
    assert set(enabled) == defined and len(enabled) == len(defined)
    assert Settings().flows == DEFAULT_FLOWS
    assert enabled[:5] == ["help", "onboarding", "membership", "appoint", "broadcast"]


def test_a_new_module_in_a_flows_package_is_found_without_listing_it(tmp_path: Path) -> None:
    package = tmp_path / "college_flows"
    package.mkdir()
    (package / "__init__.py").write_text('ORDER = ["second"]\n', encoding="utf-8")
    for module, name in (("first", "duty"), ("second", "rota")):
        (package / f"{module}.py").write_text(
            "from fsm_bot.engine import Flow\n"
            f"flow = Flow(name={name!r}, description='help.description', triggers=[{name!r}])\n",
            encoding="utf-8",
        )
    sys.path.insert(0, str(tmp_path))
    try:
        registry = FlowRegistry.from_names(["college_flows", "help"])
        assert [flow.name for flow in registry] == ["rota", "duty", "help"]  # ORDER first, then by name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith("college_flows")]:
            del sys.modules[module]
