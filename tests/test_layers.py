"""The floors of the house (DESIGN.md, STYLE.md): imports point down only, and the sandbox stands apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the fsm_bot packages (or top modules) it may import besides itself
ALLOWED = {
    "fsm_bot.sandbox": set(),
    # fsm_bot.folding (ё/е and case, as readers compare words) stands free of everything, like the timetable.
    "fsm_bot.timetable": {"fsm_bot.folding"},
    "fsm_bot.attendance": {"fsm_bot.folding"},
    # fsm_bot.backoff (how long to wait before trying again) stands free of everything, like timetable.
    "fsm_bot.storage": {"fsm_bot.timetable", "fsm_bot.backoff"},
    "fsm_bot.vk": {"fsm_bot.backoff"},
    "fsm_bot.scheduler": {"fsm_bot.storage", "fsm_bot.timetable"},
    "fsm_bot.delivery": {"fsm_bot.storage", "fsm_bot.vk"},
    "fsm_bot.members": {"fsm_bot.storage", "fsm_bot.vk"},
    # The dialog runtime: no feature names, so neither services nor the pure feature floors.
    "fsm_bot.engine": {
        "fsm_bot.backoff",
        "fsm_bot.folding",
        "fsm_bot.members",
        "fsm_bot.delivery",
        "fsm_bot.scheduler",
        "fsm_bot.storage",
        "fsm_bot.vk",
        "fsm_bot.texts",
    },
    # What flows may ask for: never the engine (the engine never imports services either).
    "fsm_bot.services": {
        "fsm_bot.folding",
        "fsm_bot.members",
        "fsm_bot.delivery",
        "fsm_bot.scheduler",
        "fsm_bot.storage",
        "fsm_bot.vk",
        "fsm_bot.texts",
        "fsm_bot.timetable",
        "fsm_bot.attendance",
    },
    "flows": {"fsm_bot.engine", "fsm_bot.services"},
}
# Nothing imports the composition root but the command line.
ALLOWED_TO_IMPORT_RUNTIME = {"fsm_bot.cli", "fsm_bot.runtime"}


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


def test_only_the_command_line_imports_the_runtime() -> None:
    offenders = []
    for folder in ("fsm_bot", "flows"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = _module_name(path)
            if any(module == allowed or module.startswith(allowed + ".") for allowed in ALLOWED_TO_IMPORT_RUNTIME):
                continue
            offenders += [f"{module} imports {name}" for name in _imports(path) if name.startswith("fsm_bot.runtime")]
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of ours that `path` imports, those under `if TYPE_CHECKING:` too (a circle drawn only
    for the type checker is still two modules that cannot be read one at a time):
    `from a.b import c` counts as a.b.c when c is a module, else as a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(path, node.module, node.level)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found & modules


def _absolute(path: Path, module: str | None, level: int) -> str:
    """`from .x import y` in fsm_bot/sandbox/state.py is fsm_bot.sandbox.x."""
    if level == 0:
        return module or ""
    package = list(path.relative_to(ROOT).parent.parts)
    package = package[: len(package) - (level - 1)]
    return ".".join([*package, module] if module else package)


def test_no_module_imports_itself_through_others() -> None:
    """No import circles anywhere (STYLE.md): each module can be read after the ones it imports."""
    paths = [p for folder in ("fsm_bot", "flows") for p in sorted((ROOT / folder).rglob("*.py"))]
    modules = {_module_name(path) for path in paths}
    graph = {_module_name(path): _module_imports(path, modules) - {_module_name(path)} for path in paths}
    circles = [sorted(group) for group in _strongly_connected(graph) if len(group) > 1]
    assert circles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the import graph is a few hundred modules deep at most)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


# SQL is written in storage/repositories only (issue 16); the scheduler's leader election speaks to
# PostgreSQL itself (pg_notify beside its LISTEN and advisory lock), with no table involved.
SQL_WRITERS = {"fsm_bot.storage", "fsm_bot.scheduler.leadership"}
STATEMENT_BUILDERS = {"select", "update", "delete", "insert", "text", "func"}


def test_sql_is_written_only_in_storage() -> None:
    offenders = []
    for folder in ("fsm_bot", "flows"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = _module_name(path)
            if any(module == allowed or module.startswith(allowed + ".") for allowed in SQL_WRITERS):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
                    offenders += [f"{module}: {a.name}" for a in node.names if a.name in STATEMENT_BUILDERS]
    assert offenders == []
