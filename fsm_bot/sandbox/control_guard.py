"""The control API's door: only JSON bodies, and no requests from other sites' pages.

A page on any site can make the browser POST to ``http://127.0.0.1:8080/sandbox/...``: a form or a
``fetch`` with ``Content-Type: text/plain`` needs no CORS preflight (Fetch standard, "CORS-safelisted
request-header"), so without this check any page the developer opens could reset the sandbox, play its
users or point its callback elsewhere. Hence, for every request that changes something under ``/sandbox/``:

- a body must be ``application/json`` (415 otherwise): a cross-site page cannot send that without a
  preflight, which the sandbox never answers with CORS headers;
- a browser's ``Origin``, when sent, must be the address the request went to (``http://<Host>``), and that
  ``Host`` must be an IP address or a ``localhost`` name (403 otherwise): a page of another origin is refused,
  and so is DNS rebinding, where another site's name is pointed at 127.0.0.1 and Origin matches Host.

Requests without ``Origin`` (curl, requests, the Python fixtures, the bot) are not a browser's and pass.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/sandbox/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_MEDIA_TYPE = "application/json"


class ControlGuard:
    """ASGI wrapper refusing cross-site and non-JSON requests that change the sandbox (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CONTROL_PREFIX) and scope["method"] not in SAFE_METHODS:
            problem = refusal(scope)
            if problem is not None:
                status, message = problem
                await JSONResponse({"error": message}, status_code=status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def refusal(scope: Scope) -> tuple[int, str] | None:
    """``(status, error)`` when this state-changing control request must be refused, else None."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is not None and not _same_site(origin, scope["scheme"], headers.get("host", "")):
        return 403, (
            f"cross-origin request refused: Origin {origin[:100]!r} is not this server; the control API "
            "takes browser requests only from its own pages, opened by an IP address or a localhost name"
        )
    has_body = headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if has_body and media_type != JSON_MEDIA_TYPE:
        return 415, f"the control API takes JSON bodies only: send Content-Type: {JSON_MEDIA_TYPE}"
    return None


def _same_site(origin: str, scheme: str, host: str) -> bool:
    """Origin is exactly ``<scheme>://<Host>`` and Host names this machine in a way no other site can."""
    if not host or origin.lower() != f"{scheme}://{host}".lower():
        return False
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    hostname = hostname.strip("[]").lower()
    if hostname == "localhost" or hostname.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True
