"""Callback API endpoint: VK POSTs each update here; we store it durably and answer "ok".

Push mode lets several workers share one community (VK_PROTOCOL.md, "Callback API"). The request
path does only what must happen before VK may forget an update: check that it comes from VK (the
secret), store it in the inbox (a fast durable insert; handling happens later in the dispatcher), answer.
VK retries while we fail (any answer but HTTP 200 "ok"), so:
- a storage failure answers HTTP 500: VK delivers the update again later;
- a malformed update answers "ok": sending it again would not make it readable;
- repeats (`X-Retry-Counter`, or one update reaching two workers) are dropped by the inbox's unique key.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fsm_bot.vk.events import EventSink, IncomingEvent, MalformedEvent, parse_update

log = logging.getLogger(__name__)

DEFAULT_PATH = "/callback"
MAX_BODY_BYTES = 1024 * 1024  # VK's updates are a few KB; a message with 10 attachments stays far below this
OK = "ok"


@dataclass(frozen=True)
class CallbackCommunity:
    """What the endpoint needs to know about one community (group) it serves.

    `secret` is the "Secret key" set in the community's Callback API settings; it is required, because
    without it anyone who finds the URL could inject updates. `confirmation` is the string VK shows
    there (or `groups.getCallbackConfirmationCode` returns).
    """

    group_id: int
    secret: str
    confirmation: str
    sink: EventSink

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError(f"community {self.group_id}: a Callback API secret is required")
        if not self.confirmation:
            raise ValueError(f"community {self.group_id}: the confirmation string is empty")


class CallbackEndpoint:
    """The request handler: one instance per app, holding the communities by group_id."""

    def __init__(self, communities: Iterable[CallbackCommunity], max_body: int = MAX_BODY_BYTES) -> None:
        self.communities = {community.group_id: community for community in communities}
        if not self.communities:
            raise ValueError("the callback endpoint needs at least one community")
        self.max_body = max_body

    async def handle(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("callback: ignored a body that is not JSON (%d bytes)", len(body))
            return PlainTextResponse(OK)
        if not isinstance(update, dict):
            log.warning("callback: ignored a JSON body that is not an object")
            return PlainTextResponse(OK)

        community = self.communities.get(_group_id(update.get("group_id")))
        kind = update.get("type")
        if community is None:
            log.warning("callback: refused an update of type %r for an unknown group_id", _short(kind))
            return PlainTextResponse("unknown group", status_code=403)
        secret = update.pop("secret", None)  # popped: the secret must not be stored with the envelope
        if kind == "confirmation":
            # VK sends the secret with the confirmation request when one is set; accept it without
            # one too, since the confirmation string is all an attacker could learn.
            if secret is not None and not _same(secret, community.secret):
                return self._forbidden(community, kind)
            log.info("callback: confirmation requested for community %d", community.group_id)
            return PlainTextResponse(community.confirmation)
        if secret is None or not _same(secret, community.secret):
            return self._forbidden(community, kind)

        retry = request.headers.get("x-retry-counter")
        if retry:
            log.debug("callback: retry %s of update %s", _short(retry), _short(update.get("event_id")))
        try:
            event = parse_update(update)
        except MalformedEvent as error:
            log.warning("callback: ignored a malformed update of type %r: %s", _short(kind), error)
            return PlainTextResponse(OK)
        except Exception as error:  # a parser bug: a retry would fail the same way
            log.error("callback: ignored an update of type %r the parser failed on (%s)", _short(kind), _name(error))
            return PlainTextResponse(OK)
        return await self._store(community, event)

    async def _read_body(self, request: Request) -> bytes | Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return PlainTextResponse("body too large", status_code=413)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body:
                    return PlainTextResponse("body too large", status_code=413)
                chunks.append(chunk)
        except ClientDisconnect:
            return Response(status_code=400)
        return b"".join(chunks)

    async def _store(self, community: CallbackCommunity, event: IncomingEvent) -> Response:
        try:
            await run_in_threadpool(community.sink.accept, [event])
        except Exception as error:
            # HTTP 500 makes VK deliver the update again later; answering "ok" would lose it.
            log.warning("callback: could not store update %s (%s); asking VK to retry", event.event_id, _name(error))
            return PlainTextResponse("storage unavailable", status_code=500)
        return PlainTextResponse(OK)

    @staticmethod
    def _forbidden(community: CallbackCommunity, kind: Any) -> Response:
        log.warning(
            "callback: refused an update of type %r for community %d: wrong or missing secret",
            _short(kind),
            community.group_id,
        )
        return PlainTextResponse("forbidden", status_code=403)


def create_callback_app(
    communities: Iterable[CallbackCommunity], path: str = DEFAULT_PATH, max_body: int = MAX_BODY_BYTES
) -> Starlette:
    """A Starlette app answering VK's Callback API on `path` for each of `communities` (by group_id)."""
    if not path.startswith("/"):
        raise ValueError("the callback path must start with '/'")
    endpoint = CallbackEndpoint(communities, max_body)
    return Starlette(routes=[Route(path, endpoint.handle, methods=["POST"])])


def callback_server(app: Starlette, host: str = "0.0.0.0", port: int = 8000) -> uvicorn.Server:
    """A uvicorn server for the app, not started: `.run()` blocks, `should_exit = True` stops it."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="off",
        access_log=False,  # one line per VK update is noise; our own log says what matters
        log_config=None,  # the program configures logging (fsm_bot.logs)
    )
    return uvicorn.Server(config)


def serve_callback(app: Starlette, host: str = "0.0.0.0", port: int = 8000) -> None:
    """Serve the callback app until interrupted (for `fsm-bot run` in callback mode)."""
    callback_server(app, host, port).run()


def _group_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def _same(given: Any, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def _short(value: Any) -> str:
    """A client-controlled value, cut short for the log."""
    text = value if isinstance(value, str) else repr(value)
    return text[:64]


def _name(error: BaseException) -> str:
    return type(error).__name__
