"""``/method/{name}``: VK's API endpoint. Always HTTP 200 with ``{"response"}`` or ``{"error"}``.

Order of checks, as a client sees them: unknown method (3), token (5), rate limit (6), injected fault,
then the method itself (100, 901, 911, ...).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .errors import VkError, error_body
from .methods import METHODS, Call, ExecuteResult, dispatch
from .params import Params
from .state import Sandbox
from .transport import disconnect, http_500

logger = logging.getLogger(__name__)

NO_TOKEN = "User authorization failed: no access_token passed."
CAPTCHA = {"captcha_sid": "548230984711", "captcha_img": "https://api.vk.ru/captcha.php?sid=548230984711&s=1"}


def base_url(sandbox: Sandbox, request: Request) -> str:
    """The URL clients reach this server at (for long poll and upload URLs)."""
    return sandbox.base_url or str(request.base_url).rstrip("/")


async def read_values(request: Request) -> dict[str, str]:
    """Query and form parameters (body wins); JSON bodies are ignored, as VK ignores them."""
    values = dict(request.query_params)
    if request.method != "POST":
        return values
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=0, max_fields=1000)
        except Exception:  # a broken multipart body is just "no parameters"
            return values
        values.update((key, value) for key, value in form.multi_items() if isinstance(value, str))
    elif not content_type.startswith("application/json"):
        body = await request.body()
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return values


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


async def method_endpoint(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    method = request.path_params["name"]
    values = await read_values(request)
    sandbox.stats.requests += 1
    injected: int | None = None
    try:
        if method not in METHODS:
            raise VkError(3)
        token = values.get("access_token") or bearer_token(request)
        if not token:
            raise VkError(5, text=NO_TOKEN)
        if not sandbox.token_valid(token):
            raise VkError(5)
        if not sandbox.limiter.allow(token):
            sandbox.stats.rate_limited += 1
            raise VkError(6)
        fault = sandbox.faults.take(method)
        if fault == "http_500":
            sandbox.journal.api_call(method, values, fault=fault)
            return http_500()
        if fault == "disconnect":
            sandbox.journal.api_call(method, values, fault=fault)
            return await disconnect(request)
        if isinstance(fault, int):
            injected = fault
            raise VkError(fault, extra=CAPTCHA if fault == 14 else None)
        before = Counter(sandbox.stats.calls) if method == "execute" else None
        call = Call(sandbox, Params(values), method, base_url(sandbox, request), dispatch=dispatch)
        result = dispatch(call, method, call.params)
    except VkError as error:
        sandbox.journal.api_call(method, values, error=error.code, fault=injected)
        return answer(error_body(error, method, values))
    except Exception:  # VK answers error 10 for its own failures; the traceback goes to the log
        logger.exception("sandbox bug in %s", method)
        sandbox.internal_errors += 1
        sandbox.journal.api_call(method, values, error=10)
        return answer(error_body(VkError(10), method, values))
    if before is not None:  # execute: which calls it made, and how many of them failed
        inner = dict(sandbox.stats.calls - before - Counter({"execute": 1}))
        failed = len(result.get("execute_errors", [])) if isinstance(result, ExecuteResult) else 0
        sandbox.journal.api_call(method, values, calls=inner, inner_errors=failed)
    else:
        sandbox.journal.api_call(method, values)
    try:
        return answer(dict(result) if isinstance(result, ExecuteResult) else {"response": result})
    except ValueError:  # execute returned a number JSON cannot carry (1e999)
        return answer(error_body(VkError(13, "result is not valid JSON"), method, values))
    except RecursionError:  # nesting.py bounds what comes in; this is the last line, a 500 never
        logger.exception("sandbox bug in %s: the answer is nested too deeply", method)
        sandbox.internal_errors += 1
        return answer(error_body(VkError(10), method, values))


def answer(body: dict[str, Any]) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return Response(data, media_type="application/json; charset=utf-8")
