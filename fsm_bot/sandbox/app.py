"""The ASGI application: VK's API, the long poll and upload servers, the control API and the web pages."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from . import control, control_files, control_users, playground
from .api import answer, method_endpoint
from .control_guard import ControlGuard
from .control_input import ControlError, control_error_handler
from .errors import VkError, error_body
from .longpoll import poll_endpoint
from .pages import page_routes
from .state import Sandbox
from .transport import ConnectionAccess
from .uploads import file_endpoint, upload_endpoint

UPLOAD_KINDS = frozenset({"doc", "photo"})
METHOD_PREFIX = "/method/"


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404 and request.url.path.startswith(METHOD_PREFIX):
        # Starlette's path patterns never match a newline, so "/method/a%0Ab" lands here; VK says error 3.
        return answer(error_body(VkError(3), request.url.path[len(METHOD_PREFIX) :], {}))
    return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)


async def _upload(request: Request) -> Response:
    if request.path_params["kind"] not in UPLOAD_KINDS:
        raise HTTPException(404, "no such upload server")
    return await upload_endpoint(request)


def create_app(sandbox: Sandbox) -> ASGIApp:
    """An app serving ``sandbox``; the state is reachable from handlers as ``request.app.state.sandbox``."""
    routes = [
        *page_routes(),
        Route("/method/{name:path}", method_endpoint, methods=["GET", "POST"]),
        Route("/whp/{group_id}", poll_endpoint, methods=["GET", "POST"]),
        Route("/upload/files/{token}", file_endpoint, methods=["GET"]),
        Route("/upload/{kind}/{key}", _upload, methods=["POST"]),
        *control.ROUTES,
        *control_users.ROUTES,
        *control_files.ROUTES,
        *playground.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ControlError: control_error_handler, HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return ConnectionAccess(ControlGuard(app))
