"""Reading and checking control API input; bad input is a 4xx ``{"error": "..."}``, never a 500."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import nesting
from .state import Sandbox

MISSING: Any = object()


class ControlError(Exception):
    """A control API request that cannot be served; becomes ``{"error": message}`` with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def control_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ControlError)
    return JSONResponse({"error": error.message}, status_code=error.status)


async def read_json(request: Request, *, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """The JSON object body (an empty body is ``{}``); unknown keys are refused so typos fail loudly."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = nesting.loads(raw)
    except nesting.TooDeep:
        raise ControlError(f"the body is nested deeper than {nesting.MAX_DEPTH} levels") from None
    except nesting.NotText as error:
        raise ControlError(f"the body has {error}") from None
    except ValueError:
        raise ControlError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    if allowed is not None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ControlError(f"unknown fields: {', '.join(unknown)}; expected some of {', '.join(sorted(allowed))}")
    return body


def take(
    body: dict[str, Any],
    name: str,
    kind: type | tuple[type, ...],
    default: Any = MISSING,
    *,
    nullable: bool = False,
) -> Any:
    """``body[name]`` checked against ``kind`` (bools are not ints here); ``default`` when absent."""
    if name not in body:
        if default is MISSING:
            raise ControlError(f"{name} is required")
        return default
    value = body[name]
    if value is None and nullable:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ControlError(f"{name} must be {_names(kinds)}")
    if not isinstance(value, kinds):
        raise ControlError(f"{name} must be {_names(kinds)}{' or null' if nullable else ''}")
    return value


def _names(kinds: tuple[type, ...]) -> str:
    names = {bool: "a boolean", int: "an integer", str: "a string", list: "a list", dict: "an object"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def sandbox_of(request: Request) -> Sandbox:
    return request.app.state.sandbox


def path_int(request: Request, name: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError:
        raise ControlError(f"{name} must be an integer", 404) from None


def query_int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None
