"""Callback API endpoint: VK POSTs each update here; we store it durably and answer "ok".

Push mode lets several workers share one community (VK_PROTOCOL.md, "Callback API"). The request
path does only what must happen before VK may forget an update: check that it comes from VK (the
secret), store it in the inbox (a fast durable insert; handling happens later in the dispatcher), answer.
VK retries while we fail (any answer but HTTP 200 "ok"), so:
- a storage failure answers HTTP 500: VK delivers the update again later. 500 means only that:
  nothing a client sends makes the endpoint answer it;
- a body that is not a JSON object (not JSON, a list, nested past the parser's limit) answers HTTP 400:
  VK never sends one, so it comes from someone else, and a retry would cost nothing;
- a well-formed envelope from VK (the right secret) whose event the parser cannot read answers "ok":
  sending it again would not make it readable;
- repeats (`X-Retry-Counter`, or one update reaching two workers) are dropped by the inbox's unique key.

Slow clients are bounded: the headers must arrive within HEADER_TIMEOUT (fsm_bot.vk.header_deadline),
the body within BODY_TIMEOUT (HTTP 408), an idle keep-alive connection is closed after
KEEP_ALIVE_TIMEOUT, and past CONCURRENCY_LIMIT connections uvicorn answers 503 (VK retries).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from fsm_bot.vk.events import EventSink, IncomingEvent, MalformedEvent, parse_update
from fsm_bot.vk.header_deadline import header_deadline_protocol

log = logging.getLogger(__name__)

DEFAULT_PATH = "/callback"
MAX_BODY_BYTES = 1024 * 1024  # VK's updates are a few KB; a message with 10 attachments stays far below this
OK = "ok"
# VK POSTs one small update per request and wants the answer quickly (VK_PROTOCOL.md, "Callback API");
# a client slower than these is not VK, and every connection it holds is one VK cannot use.
HEADER_TIMEOUT = 10.0  # seconds from connecting (or the next request's first byte) to the end of the headers
BODY_TIMEOUT = 10.0  # seconds to read the whole body once the headers are in
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open (uvicorn's default, said aloud)
CONCURRENCY_LIMIT = 256  # open connections (or running requests) past which uvicorn answers 503
MAX_HEADER_BYTES = 16 * 1024  # request line and headers; VK's are well under 1 KB
# str.isdigit() accepts "²" (int() raises) and "١" (int() reads it): client numbers are ASCII digits only.
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CLOSE = {"connection": "close"}  # the rest of the body is not read: the connection cannot be reused


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
    # Told when VK had trouble reaching us (a retried push, a push we could not store): VK gives up on a
    # push after a few tries, so the bot reads what it may have dropped back from VK (fsm_bot.vk.catch_up).
    on_trouble: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError(f"community {self.group_id}: a Callback API secret is required")
        if not self.confirmation:
            raise ValueError(f"community {self.group_id}: the confirmation string is empty")


class CallbackEndpoint:
    """The request handler: one instance per app, holding the communities by group_id."""

    def __init__(
        self,
        communities: Iterable[CallbackCommunity],
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        self.communities = {community.group_id: community for community in communities}
        if not self.communities:
            raise ValueError("the callback endpoint needs at least one community")
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def handle(self, request: Request) -> Response:
        body = await self._read_body(request)
        if isinstance(body, Response):
            return body
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nests past the parser's limit
            log.warning("callback: refused a body that is not JSON (%d bytes)", len(body))
            return PlainTextResponse("not a JSON object", status_code=400)
        if not isinstance(update, dict):
            log.warning("callback: refused a JSON body that is not an object")
            return PlainTextResponse("not a JSON object", status_code=400)

        group_id = _group_id(update.get("group_id"))
        community = None if group_id is None else self.communities.get(group_id)
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
            if community.on_trouble is not None:
                community.on_trouble("VK retried a push")
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
        declared = request.headers.get("content-length", "")
        if _ASCII_DIGITS.fullmatch(declared) and (len(declared) > 18 or int(declared) > self.max_body):
            return PlainTextResponse("body too large", status_code=413, headers=_CLOSE)
        chunks: list[bytes] = []
        size = 0
        try:
            # uvicorn has no body timeout: without this a client sending a byte a minute holds the request.
            async with asyncio.timeout(self.body_timeout):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > self.max_body:
                        return PlainTextResponse("body too large", status_code=413, headers=_CLOSE)
                    chunks.append(chunk)
        except ClientDisconnect:
            return Response(status_code=400)
        except TimeoutError:
            log.warning("callback: refused a body not sent within %.0f s (%d bytes came)", self.body_timeout, size)
            return PlainTextResponse("request timeout", status_code=408, headers=_CLOSE)
        return b"".join(chunks)

    async def _store(self, community: CallbackCommunity, event: IncomingEvent) -> Response:
        try:
            await run_in_threadpool(community.sink.accept, [event])
        except Exception as error:
            # HTTP 500 makes VK deliver the update again later; answering "ok" would lose it.
            log.warning("callback: could not store update %s (%s); asking VK to retry", event.event_id, _name(error))
            if community.on_trouble is not None:
                community.on_trouble("a push could not be stored")
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
    communities: Iterable[CallbackCommunity],
    path: str = DEFAULT_PATH,
    max_body: int = MAX_BODY_BYTES,
    body_timeout: float = BODY_TIMEOUT,
) -> Starlette:
    """A Starlette app answering VK's Callback API on `path` for each of `communities` (by group_id)."""
    if not path.startswith("/"):
        raise ValueError("the callback path must start with '/'")
    endpoint = CallbackEndpoint(communities, max_body, body_timeout)
    return Starlette(routes=[Route(path, endpoint.handle, methods=["POST"])])


def callback_server(
    app: Starlette,
    host: str = "0.0.0.0",
    port: int = 8000,
    header_timeout: float = HEADER_TIMEOUT,
    limit_concurrency: int = CONCURRENCY_LIMIT,
) -> uvicorn.Server:
    """A uvicorn server for the app, not started: `.run()` blocks, `should_exit = True` stops it."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=header_deadline_protocol(header_timeout),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        limit_concurrency=limit_concurrency,
        lifespan="off",
        access_log=False,  # one line per VK update is noise; our own log says what matters
        log_config=None,  # the program configures logging (fsm_bot.logs)
    )
    return uvicorn.Server(config)


def _group_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and len(value) <= 18 and _ASCII_DIGITS.fullmatch(value):
        return int(value)
    return None


def _same(given: Any, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from response times."""
    if not isinstance(given, str):
        return False
    # surrogatepass: JSON may carry a lone surrogate ("\ud800"), which plain UTF-8 refuses to encode.
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def _short(value: Any) -> str:
    """A client-controlled value, cut short for the log (a nested list's repr could be huge or too deep)."""
    if isinstance(value, str):
        return value[:64]
    if value is None or isinstance(value, bool | int | float):
        return repr(value)[:64]
    return f"<{type(value).__name__}>"


def _name(error: BaseException) -> str:
    return type(error).__name__
