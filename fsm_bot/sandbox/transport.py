"""Transport-level failures (faults ``http_500`` and ``disconnect``), the ways real VK fails besides errors.

ASGI has no "drop this connection" message, so the outermost wrapper (:class:`ConnectionAccess`) finds the
server's transport and puts a ``close`` callable into the scope. It knows uvicorn's protocol objects (their
``receive`` is a bound method of the request cycle that owns ``transport``); with any other server, or if
that changes, ``disconnect`` falls back to starting a response and aborting it, which clients also see as
a broken connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

CLOSE_KEY = "fsm_bot.sandbox.close"

_NGINX_500 = (
    "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n"
    "<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class ConnectionAccess:
    """ASGI wrapper that lets an endpoint close the client connection without answering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            transport = getattr(getattr(receive, "__self__", None), "transport", None)
            if transport is not None and hasattr(transport, "close"):
                scope[CLOSE_KEY] = transport.close
        await self.app(scope, receive, send)


class AbortResponse(Response):
    """Starts a response and then fails, so the server cuts the connection mid-answer (the fallback)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("sandbox fault: disconnect")


def http_500() -> Response:
    """What VK's front servers answer when a backend fails: an HTML page with status 500."""
    return HTMLResponse(_NGINX_500, status_code=500)


async def disconnect(request: Request) -> Response:
    """Close the connection without an answer; the client sees the connection reset."""
    close: Callable[[], Any] | None = request.scope.get(CLOSE_KEY)
    if close is None:
        return AbortResponse()
    close()
    # Let the server notice the lost connection before the endpoint returns, so it does not try to answer.
    for _ in range(3):
        await asyncio.sleep(0)
    return _Nothing()


class _Nothing(Response):
    """A response that sends nothing: the connection is already closed."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None
