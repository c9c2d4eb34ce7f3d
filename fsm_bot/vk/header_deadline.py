"""uvicorn's h11 protocol with a deadline for the request headers: a slow client cannot hold a connection.

uvicorn times out only an idle keep-alive connection, and only after a response (`timeout_keep_alive`);
a client that connects and then sends its headers a byte at a time keeps the connection, its file
descriptor and a place under `limit_concurrency` for ever (uvicorn 0.55, protocols/http/h11_impl.py:
no timer is armed in `connection_made`, and `data_received` cancels the keep-alive one). A few hundred
such clients would starve VK of the endpoint. Here a connection that is waiting for request headers must
complete them within `header_timeout` seconds of the first wait, else it is closed; the body is bounded
by the endpoint itself (fsm_bot.vk.callback reads it under a deadline and answers 408).

h11 rather than httptools: h11 also bounds the size of the headers (`h11_max_incomplete_event_size`,
uvicorn answers 400 past it) and tells which part of the request it is waiting for.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    header_timeout: float = 10.0

    _deadline: asyncio.TimerHandle | None = None

    # H11Protocol itself narrows asyncio's BaseTransport to Transport here, under the same ignore (uvicorn 0.3x).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        # IDLE: h11 has not seen a complete request line and headers yet (h11 docs, "Connection states").
        # The deadline is armed once per wait, so trickling bytes do not extend it; after a response
        # uvicorn's keep-alive timer covers the silence until the next request's first byte.
        if self.conn.their_state is h11.IDLE:
            if self._deadline is None and not self.transport.is_closing():
                self._deadline = self.loop.call_later(self.header_timeout, self._expire)
        else:
            self._cancel()

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.debug("closing a connection that did not send its request headers in time")
            self.transport.close()

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def header_deadline_protocol(header_timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for uvicorn.Config(http=...), with its deadline (uvicorn builds one per connection)."""
    if header_timeout <= 0:
        raise ValueError("the header timeout must be positive")
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout})
