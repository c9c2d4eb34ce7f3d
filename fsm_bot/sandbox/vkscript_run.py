"""VKScript for ``execute``, part two: running a parse tree with JavaScript-like values and VK's limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import VkError
from .vkscript import Node

MAX_API_CALLS = 25
MAX_STEPS = 100_000

ApiCall = Callable[[str, dict[str, Any]], Any]


def runtime_error(detail: str) -> VkError:
    return VkError(13, detail)


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") or isinstance(value, list | dict)


def _js_str(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


class Interpreter:
    """Runs a parsed program; ``api(method, values)`` performs one API call (raising on failure)."""

    def __init__(self, api: ApiCall) -> None:
        self.api = api
        self.variables: dict[str, Any] = {}
        self.calls = 0
        self.steps = 0
        self.errors: list[dict[str, Any]] = []

    def run(self, program: list[Node]) -> Any:
        try:
            self.block(program)
        except _Return as done:
            return done.value
        except RecursionError:
            raise runtime_error("code is nested too deeply") from None
        return None

    def block(self, statements: list[Node]) -> None:
        for statement in statements:
            self.step()
            kind = statement[0]
            if kind == "var":
                for name, value in statement[1]:
                    self.variables[name] = None if value is None else self.eval(value)
            elif kind == "expr":
                self.eval(statement[1])
            elif kind == "return":
                raise _Return(self.eval(statement[1]))
            elif kind == "while":
                while _truthy(self.eval(statement[1])):
                    self.step()
                    self.block(statement[2])
            elif kind == "if":
                if _truthy(self.eval(statement[1])):
                    self.block(statement[2])
                elif statement[3] is not None:
                    self.block(statement[3])

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise runtime_error("too many operations")

    def eval(self, node: Node) -> Any:
        kind = node[0]
        if kind == "value":
            return node[1]
        if kind == "name":
            if node[1] not in self.variables:
                raise runtime_error(f"{node[1]} is not defined")
            return self.variables[node[1]]
        if kind == "array":
            return [self.eval(item) for item in node[1]]
        if kind == "object":
            return {key: self.eval(value) for key, value in node[1]}
        if kind == "member":
            return self.member(self.eval(node[1]), node[2])
        if kind == "index":
            return self.index(self.eval(node[1]), self.eval(node[2]))
        if kind == "call":
            return self.call(node[1], [self.eval(arg) for arg in node[2]])
        if kind == "assign":
            value = self.eval(node[2])
            self.assign(node[1], value)
            return value
        if kind == "unary":
            value = self.eval(node[2])
            if node[1] == "!":
                return not _truthy(value)
            return -self.number(value)
        if kind == "bin":
            return self.binary(node[1], node[2], node[3])
        raise runtime_error("unsupported expression")

    def binary(self, op: str, left_node: Node, right_node: Node) -> Any:
        left = self.eval(left_node)
        if op == "&&":
            return self.eval(right_node) if _truthy(left) else left
        if op == "||":
            return left if _truthy(left) else self.eval(right_node)
        right = self.eval(right_node)
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            return _js_str(left) + _js_str(right)
        if op in ("<", ">", "<=", ">=") and isinstance(left, str) and isinstance(right, str):
            pair: tuple[Any, Any] = (left, right)
        else:
            pair = (self.number(left), self.number(right))
        a, b = pair
        try:
            result = {
                "+": lambda: a + b,
                "-": lambda: a - b,
                "*": lambda: a * b,
                "/": lambda: a / b,
                "%": lambda: a % b,
                "<": lambda: a < b,
                ">": lambda: a > b,
                "<=": lambda: a <= b,
                ">=": lambda: a >= b,
            }[op]()
        except ZeroDivisionError:
            raise runtime_error("division by zero") from None
        if isinstance(result, float) and result.is_integer() and op != "/":
            return int(result)
        return result

    def number(self, value: Any) -> int | float:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        if value is None:
            return 0
        raise runtime_error("a number was expected")

    def member(self, value: Any, name: str) -> Any:
        if name == "length" and isinstance(value, list | str):
            return len(value)
        if isinstance(value, dict):
            return value.get(name)
        if isinstance(value, list):  # VKScript maps a member over an array of objects
            return [item.get(name) if isinstance(item, dict) else None for item in value]
        raise runtime_error(f"cannot read {name} of {_js_str(value)}")

    def index(self, value: Any, key: Any) -> Any:
        if isinstance(value, list) and isinstance(key, int | float) and not isinstance(key, bool):
            position = int(key)
            return value[position] if 0 <= position < len(value) else None
        if isinstance(value, dict) and isinstance(key, str | int):
            return value.get(str(key))
        raise runtime_error("bad index")

    def assign(self, target: Node, value: Any) -> None:
        if target[0] == "name":
            self.variables[target[1]] = value
            return
        container = self.eval(target[1])
        key = target[2] if target[0] == "member" else self.eval(target[2])
        if isinstance(container, dict) and isinstance(key, str | int):
            container[str(key)] = value
        elif isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
            container[key] = value
        else:
            raise runtime_error("bad assignment")

    def call(self, callee: Node, args: list[Any]) -> Any:
        if callee[0] == "member" and callee[1][0] == "member" and callee[1][1] == ("name", "API"):
            return self.api_call(f"{callee[1][2]}.{callee[2]}", args)
        if callee[0] == "member" and callee[2] in ("push", "pop"):
            target = self.eval(callee[1])
            if not isinstance(target, list):
                raise runtime_error(f"{callee[2]} of a non-array")
            if callee[2] == "pop":
                return target.pop() if target else None
            target.extend(args)
            return len(target)
        raise runtime_error("unknown function")

    def api_call(self, method: str, args: list[Any]) -> Any:
        self.calls += 1
        if self.calls > MAX_API_CALLS:
            raise runtime_error(f"too many API calls (at most {MAX_API_CALLS})")
        if len(args) > 1 or (args and not isinstance(args[0], dict)):
            raise runtime_error(f"API.{method} takes one object")
        values = dict(args[0]) if args else {}
        try:
            return self.api(method, values)
        except VkError as error:
            self.errors.append({"method": method, "error_code": error.code, "error_msg": error.message})
            return False
