"""The floors of the house (DESIGN.md, STYLE.md): imports point down only, and the sandbox stands apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the fsm_bot packages (or top modules) it may import besides itself
ALLOWED = {
    "fsm_bot.sandbox": set(),
    "fsm_bot.timetable": set(),
    "fsm_bot.attendance": set(),
    "fsm_bot.storage": {"fsm_bot.timetable"},
    "fsm_bot.vk": set(),
    "fsm_bot.scheduler": {"fsm_bot.storage", "fsm_bot.timetable"},
    "fsm_bot.delivery": {"fsm_bot.storage", "fsm_bot.vk"},
    "fsm_bot.engine": {
        "fsm_bot.storage",
        "fsm_bot.vk",
        "fsm_bot.delivery",
        "fsm_bot.scheduler",
        "fsm_bot.texts",
        "fsm_bot.timetable",
        "fsm_bot.attendance",
    },
    "flows": {"fsm_bot.engine"},
}


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "fsm_bot" else parts[0]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in ("fsm_bot", "flows")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_floor_imports_only_the_floors_below_it(package: str) -> None:
    folder = ROOT.joinpath(*package.split("."))
    offenders = []
    for path in sorted(folder.rglob("*.py")):
        for name in _imports(path):
            target = _package_of(name)
            if target != package and target not in ALLOWED[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
