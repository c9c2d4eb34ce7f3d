"""Every edge a dialog can take is in its Mermaid diagram (issue 16.3).

The diagram is drawn from the flow's table of transitions; a move made outside the table
(`ctx.enter`) or a trigger no transition declares from that state would be a path the picture
hides, or a crash (transitions refuses an undeclared trigger). So this reads each flow module's
source: for every handler of a state (and the module's functions it calls), each `ctx.go(trigger)`
and `ctx.enter(state)` it can make must be an edge leaving that state in `flow.mermaid()`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import flows
from fsm_bot.engine import Flow

MODULES = [importlib.import_module(f"flows.{info.name}") for info in pkgutil.iter_modules(flows.__path__)]
EDGE = re.compile(r"^\s*(\w+) --> (\w+)(?:: (\w+))?\s*$")


def _dialogs(module: ModuleType) -> dict[str, Flow]:
    return {name: value for name, value in vars(module).items() if isinstance(value, Flow) and value.is_dialog}


def edges(flow: Flow) -> set[tuple[str, str, str | None]]:
    """(source, destination, trigger) of every arrow the diagram draws."""
    return {(m[1], m[2], m[3]) for line in flow.mermaid().splitlines() if (m := EDGE.match(line))}


def _strings(node: ast.expr) -> list[str]:
    """The strings an argument can be: a constant, or either side of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    raise AssertionError(f"line {node.lineno}: a move to a computed target cannot be checked: {ast.unparse(node)}")


def moves(module: ModuleType) -> list[tuple[str, str, str, str, int]]:
    """(flow variable, state, "go"/"enter", target, line) for every move a state's handlers can make."""
    tree = ast.parse(inspect.getsource(module))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}

    def reachable(function: ast.FunctionDef) -> list[ast.FunctionDef]:
        seen, todo = {function.name}, [function]
        while todo:
            for node in ast.walk(todo.pop()):
                called = node.func.id if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None
                if called in functions and called not in seen:
                    seen.add(called)
                    todo.append(functions[called])
        return [functions[name] for name in seen]

    found = []
    dialogs = _dialogs(module)
    for function in functions.values():
        for decorator in function.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                continue
            variable = target.value.id
            if variable not in dialogs:
                continue
            if target.attr == "on_start":
                state = dialogs[variable].first_state or ""
            elif target.attr in ("asks", "receives") and isinstance(decorator, ast.Call):
                state = _strings(decorator.args[0])[0]
            else:
                continue
            for reached in reachable(function):
                for node in ast.walk(reached):
                    call = node.func if isinstance(node, ast.Call) else None
                    if isinstance(call, ast.Attribute) and call.attr in ("go", "enter") and node.args:
                        for value in _strings(node.args[0]):
                            found.append((variable, state, call.attr, value, node.lineno))
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_every_move_a_handler_makes_is_an_edge_of_the_diagram(module: ModuleType) -> None:
    dialogs = _dialogs(module)
    missing = []
    for variable, state, kind, target, line in moves(module):
        drawn = edges(dialogs[variable])
        if kind == "go":
            ok = any(source == state and trigger == target for source, _, trigger in drawn)
        else:
            ok = any(source == state and dest == target for source, dest, _ in drawn)
        if not ok:
            missing.append(f"{module.__name__}:{line} ctx.{kind}({target!r}) from {state!r}")
    assert missing == []


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_the_diagram_draws_every_declared_transition(module: ModuleType) -> None:
    for flow in _dialogs(module).values():
        drawn = edges(flow)
        for transition in flow.transitions:
            sources = [transition.source] if isinstance(transition.source, str) else transition.source
            for source in sources:
                assert (source, transition.dest, transition.trigger) in drawn, (flow.name, transition)


def test_a_reask_is_no_edge_and_a_real_move_is_declared() -> None:
    """attendance: no reasons left to ask sends the leader back to the marks, through the table."""
    from flows.attendance import flow

    assert ("reasons", "marks", "nobody_to_ask") in edges(flow)
    assert ("conflict", "conflict", "conflict") in edges(flow)  # «оставить мои» may meet a second save
