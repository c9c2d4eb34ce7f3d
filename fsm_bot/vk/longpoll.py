"""Bots Long Poll as a supervised event source: VK's updates go to the durable inbox, nothing is lost.

vk_api's `VkBotLongPoll.listen()` dies on the first dropped connection, HTTP 5xx or non-JSON answer
(vk_api issues 197, 302, 534), so the source calls `check()` itself in a loop and supervises it:
failures are retried with backoff, VK's `failed` answers are followed, and the cursor (`ts`) only
moves forward together with the events before it (`EventSink.accept(events, cursor=ts)`), so a crash,
a restart or a database outage means reading some updates again (the sink drops repeats), never
missing them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import requests
import vk_api
from vk_api.bot_longpoll import VkBotLongPoll
from vk_api.exceptions import ApiError, ApiHttpError

from fsm_bot.vk.abortable import AbortableAdapter
from fsm_bot.vk.backoff import DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY, Backoff, Outage
from fsm_bot.vk.errors import Outcome, VkCallError, classify
from fsm_bot.vk.events import EventSink, IncomingEvent, MalformedEvent, parse_update

log = logging.getLogger(__name__)

DEFAULT_WAIT = 25  # seconds VK holds a poll when nothing happens (VK allows at most 90)

# Answered instead of 5 when a group or application key is refused; fatal like 5.
GROUP_AUTHORIZATION_ERRORS = frozenset({27, 28})
# What retrying groups.getLongPollServer cannot fix (fsm_bot.vk.errors; VK_PROTOCOL.md, "Error codes worth handling").
FATAL_OUTCOMES = frozenset({Outcome.AUTH, Outcome.DENIED, Outcome.BUG})


class LongPollFatalError(VkCallError):
    """The long poll stopped for good: VK refuses this token or group, so retrying would not help."""

    def __init__(self, group_id: int, method: str, code: int, message: str) -> None:
        super().__init__(method, code, message)
        if self.outcome is Outcome.AUTH or code in GROUP_AUTHORIZATION_ERRORS:
            what, fix = "VK authorization failed", "check the community token"
        else:
            what, fix = f"VK refused {method}", "check the group_id and that Bots Long Poll is enabled"
        self.args = (f"long poll for community {group_id} stopped: {what} (error {code}: {message}); {fix}",)


def _is_fatal(code: int) -> bool:
    return code in GROUP_AUTHORIZATION_ERRORS or classify(code) in FATAL_OUTCOMES


class _StorageFailed(Exception):
    """The sink could not store a batch; the cursor stays where it was."""


class _RawBotLongPoll(VkBotLongPoll):
    """VkBotLongPoll whose `check()` returns the raw update dicts.

    vk_api's event classes index `raw["object"]`, `raw["group_id"]` and a message's `peer_id` without
    checking, and they do it after `check()` has already advanced `ts`: one malformed update would
    raise and take the whole batch with it. `parse_update` reads updates defensively instead.
    """

    __slots__ = ()

    def _parse_event(self, raw_event: Any) -> Any:
        return raw_event


class LongPollSource:
    """Polls one community's Bots Long Poll server in a thread of its own and hands updates to `sink`.

    `vk` is a `vk_api.VkApi` for the community token (`fsm_bot.vk.transport.make_vk_api`); it is used only
    for `groups.getLongPollServer`. The polls themselves go to the server VK names, on a session of
    the source's own that `stop()` can cut mid-poll.
    """

    def __init__(
        self,
        vk: vk_api.VkApi,
        group_id: int,
        sink: EventSink,
        *,
        wait: int = DEFAULT_WAIT,
        backoff_initial: float = DEFAULT_INITIAL_DELAY,
        backoff_max: float = DEFAULT_MAX_DELAY,
        on_gap: Callable[[str], None] | None = None,
    ) -> None:
        if not 1 <= wait <= 90:
            raise ValueError("wait must be 1..90 seconds (VK's limit)")
        self.vk = vk
        self.group_id = group_id
        self.sink = sink
        self.poll_wait = wait
        # Told when events VK no longer holds were skipped: the bot then reads them back from the
        # conversations (fsm_bot.vk.catch_up).
        self.on_gap = on_gap
        self.error: LongPollFatalError | None = None
        self._backoff = Backoff(backoff_initial, backoff_max)
        self._outage = Outage(log, "long poll")
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._adapter: AbortableAdapter | None = None
        self._ts: str | None = None  # the cursor last committed with the sink
        self._doubted_ts: str | None = None  # our ts, after VK said its history no longer reaches it

    # --- lifecycle

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def start(self) -> None:
        """Run in a daemon thread; a fatal error ends it and is kept in `error`."""
        if self._thread is not None:
            raise RuntimeError("this long poll source was already started; create a new one")
        self._done.clear()
        self._thread = threading.Thread(target=self._run_in_thread, name=f"longpoll-{self.group_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop polling, even in the middle of a held poll; True once the source has stopped."""
        self._stopping.set()
        adapter = self._adapter
        if adapter is not None:
            adapter.abort()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return self._done.wait(timeout)

    def wait_connected(self, timeout: float) -> bool:
        """Block until the first connection has a cursor: events after this moment will be received."""
        return self._connected.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the source has stopped (after `stop()` or a fatal error); False on timeout."""
        return self._done.wait(timeout)

    def run(self) -> None:
        """Poll until `stop()`; raises LongPollFatalError when VK refuses the token or the group."""
        self._done.clear()
        try:
            self._supervise()
        finally:
            self._done.set()

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except LongPollFatalError:
            pass  # logged, and kept in self.error for whoever started the thread
        except Exception:  # a bug in the supervisor itself: say so rather than let the thread vanish
            log.exception("long poll: stopped by an unexpected error")

    # --- the supervisor

    def _supervise(self) -> None:
        self._adapter = adapter = AbortableAdapter()
        try:
            self._supervise_with(adapter)
        finally:
            adapter.abort()  # closes the keep-alive connection to the poll server too

    def _supervise_with(self, adapter: AbortableAdapter) -> None:
        poller: _RawBotLongPoll | None = None
        resumed = False
        while not self._stopping.is_set():
            try:
                if not resumed:
                    self._ts = self._resume_cursor()
                    resumed = True
                if poller is None:
                    poller = self._connect(adapter)
                self._poll(poller)
            except ApiError as error:
                if self._stopping.is_set():
                    break
                if _is_fatal(error.code):
                    message = error.error.get("error_msg", "") if isinstance(error.error, dict) else ""
                    self.error = LongPollFatalError(self.group_id, error.method, error.code, str(message))
                    log.error("%s", self.error)
                    raise self.error from None
                self._retry(f"{error.method} failed with VK error {error.code}")
            except Exception as error:
                if self._stopping.is_set():
                    break
                if not isinstance(error, _EXPECTED):
                    # Not a transport failure (whose text would quote the poll URL, key included): keep the trace.
                    log.debug("long poll: unexpected error", exc_info=True)
                self._retry(_describe(error))
            else:
                self._outage.recovered()
                self._backoff.reset()

    def _retry(self, reason: str) -> None:
        self._outage.failed(reason)
        self._stopping.wait(self._backoff.next_delay())

    def _resume_cursor(self) -> str | None:
        try:
            cursor = self.sink.resume_cursor()
        except Exception as error:
            raise _StorageFailed(type(error).__name__) from error
        if cursor is not None:
            log.info("long poll: resuming from ts %s", cursor)
        return cursor

    def _connect(self, adapter: AbortableAdapter) -> _RawBotLongPoll:
        """groups.getLongPollServer, then poll from our own cursor if we have one (to get what happened
        while the bot was down), else from the ts VK gave."""
        poller = _RawBotLongPoll(self.vk, self.group_id, wait=self.poll_wait)
        poller.session.close()  # vk_api's own session: replaced by one that stop() can cut
        poller.session = session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if self._ts is None:
            # First run ever: store where we start, so a crash before the first update loses nothing.
            self._commit([], str(poller.ts))  # what was written before: the bot's catch-up at every start
        self._connected.set()
        return poller

    def _poll(self, poller: _RawBotLongPoll) -> None:
        """One `check()` from the committed cursor, and the batch stored with the ts that follows it."""
        assert self._ts is not None
        poller.ts = self._ts  # always from the committed cursor: a failed accept is simply read again
        updates = poller.check()  # follows failed 1/2/3 itself: new ts for 1, new key for 2, both for 3
        new_ts = str(poller.ts)
        if not updates and new_ts != self._ts:
            self._moved_without_updates(new_ts)
            return
        self._doubted_ts = None
        if updates:
            self._commit(self._parse(updates), new_ts)

    def _moved_without_updates(self, new_ts: str) -> None:
        """VK answered `failed: 1` (history outdated) or `failed: 3` (information lost) with a newer ts.

        Jumping to that ts skips whatever happened in between, so first ask once more from our own ts
        (with the fresh key): if the history still holds it, nothing is lost; only when VK says the
        same again is the loss real, and then we move on and say so.
        """
        if self._doubted_ts != self._ts:
            self._doubted_ts = self._ts
            log.debug("long poll: VK offers ts %s instead of %s; asking again from ours", new_ts, self._ts)
            return
        log.warning(
            "long poll: VK no longer has the events after ts %s; continuing from ts %s, %s",
            self._ts,
            new_ts,
            "messages in between are read back from the conversations"
            if self.on_gap
            else "events in between may have been lost",
        )
        skipped_from = self._ts
        self._doubted_ts = None
        self._commit([], new_ts)
        self._gap(f"the long poll skipped from ts {skipped_from} to {new_ts}")

    def _gap(self, reason: str) -> None:
        if self.on_gap is not None:
            self.on_gap(reason)

    def _parse(self, updates: list[Any]) -> list[IncomingEvent]:
        events = []
        for update in updates:
            kind = update.get("type") if isinstance(update, dict) else type(update).__name__
            try:
                events.append(parse_update(update))
            except MalformedEvent as error:
                log.warning("long poll: skipped a malformed update of type %r: %s", kind, error)
            except Exception as error:  # a parser bug must not block the stream with one poisoned update
                log.error("long poll: skipped an update of type %r the parser failed on (%s)", kind, _name(error))
        return events

    def _commit(self, events: list[IncomingEvent], cursor: str) -> None:
        try:
            self.sink.accept(events, cursor=cursor)
        except Exception as error:
            raise _StorageFailed(type(error).__name__) from error
        self._ts = cursor


_EXPECTED = (requests.RequestException, ApiHttpError, _StorageFailed)


def _describe(error: Exception) -> str:
    """A reason for the log. Never str(error) of a transport error: it quotes the poll URL, key included."""
    if isinstance(error, _StorageFailed):
        return f"cannot store events ({error})"
    if isinstance(error, requests.exceptions.JSONDecodeError):
        return "the server answered something that is not JSON (an HTTP error page?)"
    if isinstance(error, requests.RequestException):
        return f"connection lost ({_name(error)})"
    if isinstance(error, ApiHttpError):
        return f"{error.method} answered HTTP {error.response.status_code}"
    return f"unexpected answer ({_name(error)})"


def _name(error: BaseException) -> str:
    return type(error).__name__
