"""``execute``: run VKScript with up to 25 nested API calls; failed calls are ``false`` plus ``execute_errors``."""

from __future__ import annotations

from typing import Any

from .. import nesting
from ..errors import VkError
from ..params import Params, to_param
from ..vkscript import parse
from ..vkscript_run import Interpreter
from .base import Call

MAX_CODE = 65_536


class ExecuteResult(dict[str, Any]):
    """Marks an answer that carries ``execute_errors`` beside ``response`` at the top level."""


def execute(call: Call) -> ExecuteResult:
    if call.inner:
        raise VkError(3)  # execute cannot call itself
    code = call.params.string("code", required=True, max_len=MAX_CODE)
    program = parse(code)
    dispatch = call.dispatch
    assert dispatch is not None

    def api(method: str, values: dict[str, Any]) -> Any:
        converted = {key: text for key, value in values.items() if (text := to_param(value)) is not None}
        inner = Call(call.sandbox, Params(converted), method, call.base_url, inner=True, dispatch=dispatch)
        return dispatch(inner, method, inner.params)

    interpreter = Interpreter(api)
    value = interpreter.run(program)
    if nesting.depth(value) > nesting.MAX_DEPTH:  # a loop can nest a value far deeper than any literal
        raise VkError(13, f"the result is nested deeper than {nesting.MAX_DEPTH} levels")
    result = ExecuteResult(response=value)
    if interpreter.errors:
        result["execute_errors"] = interpreter.errors
    return result


METHODS = {"execute": execute}
