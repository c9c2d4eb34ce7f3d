"""VKScript for ``execute``, part one: tokens and a parse tree (the interpreter is :mod:`.vkscript_run`).

It covers what VK clients generate: ``vk_api``'s ``return [API.a.b({...}),API.c.d({...})];`` and the
``var``/``while``/``push`` loops of its ``VkFunction`` helpers (requests_pool.py), plus the everyday
subset people hand-write (``if``/``else``, arithmetic, comparisons, ``.length``, indexing, member access).
Anything else is VK's error 12 (compile) or 13 (runtime), as real ``execute`` answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import VkError

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>=!()\[\]{},;.:])
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = frozenset({"var", "while", "if", "else", "return", "true", "false", "null"})
_BINARY = {  # precedence, higher binds tighter
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}

Node = tuple[Any, ...]


def compile_error(detail: str) -> VkError:
    return VkError(12, detail)


def tokenize(code: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(code):
        match = _TOKEN.match(code, position)
        if match is None:
            raise compile_error(f"unexpected symbol at {position}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            text = match.group()
            tokens.append(("kw" if kind == "name" and text in _KEYWORDS else kind, text))
    tokens.append(("end", ""))
    return tokens


def _unquote(text: str) -> str:
    if text[0] == "'":  # turn a single-quoted literal into a JSON one
        text = '"' + text[1:-1].replace('\\"', '"').replace("\\'", "'").replace('"', '\\"') + '"'
    try:
        return json.loads(text)
    except ValueError:
        raise compile_error("bad string literal") from None


class Parser:
    """Recursive descent over the token list into tuples: ``(kind, ...)``."""

    def __init__(self, code: str) -> None:
        self.tokens = tokenize(code)
        self.at = 0

    def peek(self, text: str | None = None) -> bool:
        kind, value = self.tokens[self.at]
        return value == text and kind in ("op", "kw") if text is not None else kind != "end"

    def take(self, text: str) -> None:
        if not self.peek(text):
            raise compile_error(f"expected {text!r} near {self.tokens[self.at][1]!r}")
        self.at += 1

    def program(self) -> list[Node]:
        statements = []
        while self.peek():
            statements.append(self.statement())
        return statements

    def block(self) -> list[Node]:
        if not self.peek("{"):
            return [self.statement()]
        self.take("{")
        statements = []
        while not self.peek("}"):
            if not self.peek():
                raise compile_error("unclosed block")
            statements.append(self.statement())
        self.take("}")
        return statements

    def statement(self) -> Node:
        if self.peek(";"):
            self.take(";")
            return ("pass",)
        if self.peek("var"):
            self.take("var")
            names = []
            while True:
                kind, name = self.tokens[self.at]
                if kind != "name":
                    raise compile_error("expected a variable name")
                self.at += 1
                value = None
                if self.peek("="):
                    self.take("=")
                    value = self.expression()
                names.append((name, value))
                if not self.peek(","):
                    break
                self.take(",")
            self.take(";")
            return ("var", names)
        if self.peek("return"):
            self.take("return")
            value = self.expression()
            if self.peek(";"):
                self.take(";")
            return ("return", value)
        if self.peek("while") or self.peek("if"):
            keyword = self.tokens[self.at][1]
            self.at += 1
            self.take("(")
            condition = self.expression()
            self.take(")")
            body = self.block()
            if keyword == "while":
                return ("while", condition, body)
            otherwise = None
            if self.peek("else"):
                self.take("else")
                otherwise = self.block()
            return ("if", condition, body, otherwise)
        value = self.expression()
        self.take(";")
        return ("expr", value)

    def expression(self) -> Node:
        target = self.binary(1)
        if self.peek("="):
            if target[0] not in ("name", "member", "index"):
                raise compile_error("invalid assignment target")
            self.take("=")
            return ("assign", target, self.expression())
        return target

    def binary(self, level: int) -> Node:
        left = self.unary()
        while True:
            kind, op = self.tokens[self.at]
            precedence = _BINARY.get(op) if kind == "op" else None
            if precedence is None or precedence < level:
                return left
            self.at += 1
            left = ("bin", op, left, self.binary(precedence + 1))

    def unary(self) -> Node:
        if self.peek("!") or self.peek("-"):
            op = self.tokens[self.at][1]
            self.at += 1
            return ("unary", op, self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.peek("."):
                self.take(".")
                kind, name = self.tokens[self.at]
                if kind not in ("name", "kw"):
                    raise compile_error("expected a member name")
                self.at += 1
                node = ("member", node, name)
            elif self.peek("["):
                self.take("[")
                node = ("index", node, self.expression())
                self.take("]")
            elif self.peek("("):
                self.take("(")
                args = self.items(")")
                node = ("call", node, args)
            else:
                return node

    def items(self, closer: str) -> list[Node]:
        values = []
        while not self.peek(closer):
            values.append(self.expression())
            if not self.peek(closer):
                self.take(",")
        self.take(closer)
        return values

    def primary(self) -> Node:
        kind, text = self.tokens[self.at]
        self.at += 1
        if kind == "num":
            return ("value", float(text) if any(c in text for c in ".eE") else int(text))
        if kind == "str":
            return ("value", _unquote(text))
        if kind == "kw" and text in ("true", "false", "null"):
            return ("value", {"true": True, "false": False, "null": None}[text])
        if kind == "name":
            return ("name", text)
        if text == "(":
            inner = self.expression()
            self.take(")")
            return inner
        if text == "[":
            return ("array", self.items("]"))
        if text == "{":
            return ("object", self.object_items())
        raise compile_error(f"unexpected {text or 'end of code'!r}")

    def object_items(self) -> list[tuple[str, Node]]:
        pairs = []
        while not self.peek("}"):
            kind, key = self.tokens[self.at]
            if kind not in ("name", "str", "kw", "num"):
                raise compile_error("expected an object key")
            self.at += 1
            self.take(":")
            pairs.append((_unquote(key) if kind == "str" else key, self.expression()))
            if not self.peek("}"):
                self.take(",")
        self.take("}")
        return pairs


def parse(code: str) -> list[Node]:
    """The program's statements, or VK's error 12."""
    try:
        return Parser(code).program()
    except RecursionError:
        raise compile_error("code is nested too deeply") from None
