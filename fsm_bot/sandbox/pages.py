"""The sandbox's web pages: the playground at ``/``, the API overview at ``/sandbox/``, and their assets.

Everything is read from ``static/`` once, when the app is made: plain HTML, CSS and JavaScript modules,
no build step and nothing fetched from elsewhere, so the playground works offline and from a wheel.
"""

from __future__ import annotations

from importlib import resources

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

#: Asset types the pages use; anything else in static/ is not served.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
PLAYGROUND_PAGE = "index.html"
OVERVIEW_PAGE = "api.html"
# The playground changes with the sandbox; a browser must not keep an old script next to a new server.
NO_CACHE = {"cache-control": "no-cache"}


def _static_files() -> dict[str, bytes]:
    folder = resources.files(__package__).joinpath("static")
    return {item.name: item.read_bytes() for item in folder.iterdir() if item.is_file()}


def page_routes() -> list[Route]:
    """``/`` (the playground), ``/sandbox/`` and ``/api.html`` (the route overview), ``/playground/<asset>``."""
    files = _static_files()
    playground = files[PLAYGROUND_PAGE].decode("utf-8")
    overview = files[OVERVIEW_PAGE].decode("utf-8")
    assets = {
        name: (data, MEDIA_TYPES[suffix])
        for name, data in files.items()
        if (suffix := name[name.rfind(".") :]) in MEDIA_TYPES
    }

    async def playground_page(request: Request) -> Response:
        return HTMLResponse(playground, headers=NO_CACHE)

    async def overview_page(request: Request) -> Response:
        return HTMLResponse(overview)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404, "no such file")
        data, media_type = found
        return Response(data, media_type=media_type, headers=NO_CACHE)

    return [
        Route("/", playground_page, methods=["GET"]),
        Route("/sandbox/", overview_page, methods=["GET"]),
        Route("/api.html", overview_page, methods=["GET"]),
        Route("/playground/{name}", asset, methods=["GET"]),
    ]
