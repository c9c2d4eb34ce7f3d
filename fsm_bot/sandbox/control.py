"""The control API's sandbox-wide routes: reset, community, faults, callback, stats and log (SANDBOX_API.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .api import base_url
from .callback import MAX_CONNECTIONS
from .community_settings import SWITCHES, TOKEN_PERMISSIONS
from .control_input import ControlError, read_json, sandbox_of, take
from .faults import check_fault
from .longpoll import MAX_HISTORY_SECONDS, MAX_HISTORY_SIZE


async def reset(request: Request) -> JSONResponse:
    """``{"rps_limit": N}``: 0 or null is unlimited, omitted is the server's default; ``demo`` (extension) seeds."""
    body = await read_json(request, allowed=frozenset({"rps_limit", "demo"}))
    rps_limit = take(body, "rps_limit", int, ..., nullable=True)
    if isinstance(rps_limit, int) and rps_limit < 0:
        raise ControlError("rps_limit must be 0 or more (0 or null: unlimited)")
    demo = take(body, "demo", bool, False)
    sandbox_of(request).reset(rps_limit=rps_limit, demo=demo)
    return JSONResponse({})


async def community(request: Request) -> JSONResponse:
    """``GET``: the community; ``PATCH`` (extension): its switches and the key's rights, as a deployer might have
    left them in VK (``{"messages": false}``, ``{"token_permissions": ["messages"]}``); answers them."""
    sandbox = sandbox_of(request)
    if request.method == "PATCH":
        body = await read_json(request, allowed=frozenset({*SWITCHES, "token_permissions"}))
        for name in SWITCHES:
            if name in body:
                setattr(sandbox.settings, name, take(body, name, bool))
        if "token_permissions" in body:
            names = take(body, "token_permissions", list)
            unknown = [name for name in names if name not in TOKEN_PERMISSIONS]
            if unknown:
                raise ControlError(f"token_permissions: unknown right(s) {unknown}; known: {sorted(TOKEN_PERMISSIONS)}")
            sandbox.settings.token_permissions = set(names)
        return JSONResponse(sandbox.settings.control_view())
    return JSONResponse(sandbox.community_view(base_url(sandbox, request)))


async def faults(request: Request) -> JSONResponse:
    body = await read_json(request, allowed=frozenset({"target", "kind", "count"}))
    target = take(body, "target", str)
    kind = take(body, "kind", (int, str))
    count = take(body, "count", int, 1)
    problem = check_fault(target, kind, count)
    if problem:
        raise ControlError(problem)
    sandbox = sandbox_of(request)
    sandbox.faults.add(target, kind, count)
    sandbox.journal.record("fault", target=target, fault=kind, count=count)
    return JSONResponse({})


async def callback(request: Request) -> JSONResponse:
    """Replace the callback servers with this one (or none with ``{"url": null}``); the handshake starts now.

    Extensions: ``connections`` (updates in flight at once, 1..16, 1 keeps the order) and ``keep_alive``
    (false: a new TCP connection per POST, so several bot workers on one port all get updates).
    """
    body = await read_json(request, allowed=frozenset({"url", "secret", "connections", "keep_alive"}))
    url = take(body, "url", str, nullable=True)
    secret = take(body, "secret", str, "")
    connections = take(body, "connections", int, 1)
    keep_alive = take(body, "keep_alive", bool, True)
    if url is not None and not url.startswith(("http://", "https://")):
        raise ControlError("url must be an http:// or https:// URL")
    if len(secret) > 50:
        raise ControlError("secret is at most 50 characters (VK's limit)")
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise ControlError(f"connections must be from 1 to {MAX_CONNECTIONS}")
    callbacks = sandbox_of(request).callbacks
    callbacks.clear()
    if url is not None:
        callbacks.add(url, "sandbox", secret, connections=connections, keep_alive=keep_alive)
    return JSONResponse({"confirmation": callbacks.confirmation})


async def longpoll_config(request: Request) -> JSONResponse:
    """``{"history_seconds": N or null, "history_events": M}`` (an extension): how long and how many updates
    the long poll keeps; a ``ts`` older than that is answered ``failed: 1``. GET reads it; a reset restores
    the defaults (10,000 updates, no age bound).
    """
    longpoll = sandbox_of(request).longpoll
    if request.method == "POST":
        body = await read_json(request, allowed=frozenset({"history_seconds", "history_events"}))
        events = take(body, "history_events", int, None)
        seconds = take(body, "history_seconds", (int, float), ..., nullable=True)
        if events is not None and not 1 <= events <= MAX_HISTORY_SIZE:
            raise ControlError(f"history_events must be from 1 to {MAX_HISTORY_SIZE}")
        if seconds not in (..., None) and not 0 < seconds <= MAX_HISTORY_SECONDS:
            raise ControlError(f"history_seconds must be more than 0 and at most {MAX_HISTORY_SECONDS}, or null")
        longpoll.configure(history_events=events, history_seconds=seconds)
    return JSONResponse(longpoll.config_view())


async def stats(request: Request) -> JSONResponse:
    return JSONResponse(sandbox_of(request).stats.as_json())


async def log(request: Request) -> JSONResponse:
    return JSONResponse(sandbox_of(request).mailbox.log)


ROUTES = [
    Route("/sandbox/reset", reset, methods=["POST"]),
    Route("/sandbox/community", community, methods=["GET", "PATCH"]),
    Route("/sandbox/faults", faults, methods=["POST"]),
    Route("/sandbox/callback", callback, methods=["POST"]),
    Route("/sandbox/longpoll/config", longpoll_config, methods=["GET", "POST"]),
    Route("/sandbox/stats", stats, methods=["GET"]),
    Route("/sandbox/log", log, methods=["GET"]),
]
