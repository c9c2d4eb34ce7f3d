"""Keeping broadcast reports current, and the one reminder to those who have not acknowledged.

Anything that changes a tally (a batch delivered, an «Ознакомлен» pressed) marks the broadcast's
report dirty in its own transaction; the updater edits the sender's one report message every few
seconds for dirty broadcasts, so a delivery to 2,000 people edits the message a handful of times,
not 2,000. The flag lives in the database, so a report left stale by a crash is refreshed after it.

One process edits: the leader (scheduler.leadership). Edits leave after their transaction, each
through its process's share of the token; two processes' edits could cross on the way, and a tally
read first and sent last would stay on the report for good. The flag is cleared before the edit
leaves, so a new leader refreshes every recent report once (its predecessor may have died in
between), and an edit VK did not take for a while (network, 6, 9, 10) is flagged again.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import partial

from sqlalchemy.orm import Session

from fsm_bot.delivery.replies import queue_reply
from fsm_bot.services.broadcasts import PIN_DONE, PIN_FAILED, nudge_keyboard, render_report, report_title
from fsm_bot.storage import Database
from fsm_bot.storage.models import Broadcast, BroadcastStatus
from fsm_bot.storage.repositories import (
    BroadcastFollowUps,
    BroadcastRepository,
    MemberRepository,
    OutboxRepository,
    Tally,
)
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs, Texts, as_catalogs
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import VkCallError, VkUnavailableError
from fsm_bot.vk.keyboards import NO_BUTTONS
from fsm_bot.vk.messages import MessageContent

log = logging.getLogger(__name__)

REFRESH_SECONDS = 3.0
#: How far back a new leader refreshes reports: acknowledgements and poll answers change a report
#: for days after its delivery, and each edit costs one request.
RECENT = timedelta(days=7)


class ReportUpdater:
    """A thread that edits dirty reports in place; started and stopped with the bot."""

    def __init__(
        self,
        database: Database,
        community_id: int,
        texts: Texts | Catalogs,
        client: VkClient,
        leading: threading.Event | None = None,
    ) -> None:
        """`texts`: every language's (each report in its reader's), or one catalog for all. `leading`: set
        while this process leads (Leadership.leading); None refreshes always."""
        self.database = database
        self.community_id = community_id
        self.catalogs = as_catalogs(texts)
        self.client = client
        self.leading = leading
        self._led = False  # whether the last refresh was made as the leader
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reports", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                self.refresh()
            except Exception:
                log.exception("broadcast reports: refresh failed; will try again")

    def refresh(self) -> int:
        """As the leader: pin what went out to group chats, then edit every dirty report whose message
        has gone out; returns how many reports were edited (0 in another process)."""
        if self.leading is not None and not self.leading.is_set():
            self._led = False
            return 0
        if not self._led:
            since = utcnow() - RECENT
            self.database.transaction(lambda session: BroadcastFollowUps(session, self.community_id).recheck(since))
            self._led = True
        self._pin_posted()
        edits = self.database.transaction(self._collect)
        done, again = 0, []
        for broadcast_id, peer_id, message_id, text, keyboard in edits:
            # No buttons left (nothing to acknowledge, nobody to resend to): an empty keyboard removes them.
            params = {"peer_id": peer_id, "message_id": message_id, "message": text, "keyboard": keyboard or NO_BUTTONS}
            try:
                self.client.call("messages.edit", params)
                done += 1
            except VkUnavailableError as error:
                log.warning("report of broadcast %d not updated (%s); will try again", broadcast_id, error)
                again.append(broadcast_id)
            except VkCallError as error:
                log.warning("report of broadcast %d not updated: %s", broadcast_id, error)
        if again:
            self.database.transaction(lambda session: BroadcastFollowUps(session, self.community_id).dirty(again))
        return done

    def _pin_posted(self) -> None:
        pins = self.database.transaction(self._posted_copies)
        for broadcast_id, peer_id, cmid, failed in pins:
            state = PIN_FAILED
            if not failed:
                try:
                    self.client.call("messages.pin", {"peer_id": peer_id, "conversation_message_id": cmid})
                    state = PIN_DONE
                except VkCallError as error:  # 925: the bot is not an admin of the chat
                    log.warning("broadcast %d not pinned in %d: %s", broadcast_id, peer_id, error)
            self.database.transaction(
                partial(_set_pin_state, community_id=self.community_id, broadcast_id=broadcast_id, state=state)
            )

    def _posted_copies(self, session: Session) -> list[tuple[int, int, int, bool]]:
        """Chat copies that have gone out (or failed) and wait to be pinned."""
        found = []
        outbox = OutboxRepository(session, self.community_id)
        for broadcast in BroadcastFollowUps(session, self.community_id).pending_pins():
            posted = outbox.get(broadcast.chat_outbox_id)
            if posted is None or posted.status in ("pending", "sending"):
                continue
            sent = posted.status == "sent" and bool(posted.conversation_message_id)
            found.append((broadcast.id, posted.peer_id, posted.conversation_message_id or 0, not sent))
        return found

    def _collect(self, session: Session) -> list[tuple[int, int, int, str, str | None]]:
        broadcasts = BroadcastRepository(session, self.community_id)
        outbox = OutboxRepository(session, self.community_id)
        edits = []
        for broadcast in BroadcastFollowUps(session, self.community_id).dirty_reports():
            report = outbox.get(broadcast.report_outbox_id)
            if report is None or not report.message_id:
                continue  # the report itself has not gone out yet; the next round will do it
            tally = broadcasts.tally(broadcast.id)
            sender_locale = MemberRepository(session, self.community_id).locales([broadcast.sender_vk_id])
            text, keyboard = render_report(self.catalogs[sender_locale[broadcast.sender_vk_id]], broadcast, tally)
            edits.append((broadcast.id, report.peer_id, report.message_id, text, keyboard))
            broadcast.report_dirty = False
            if tally.finished and broadcast.status == BroadcastStatus.DONE.value and not broadcast.ask_ack:
                # Nothing to acknowledge: delivered is final. Otherwise the admins wait for the nudge's tally.
                _tell_admins_once(session, self.community_id, self.catalogs, broadcast, tally)
            elif broadcast.status == BroadcastStatus.FAILED.value:
                # Set aside by the sender, which marks it dirty this once: an edit of an old report
                # could go unseen, so the sender gets a message too.
                queue_reply(session, self.community_id, broadcast.sender_vk_id, MessageContent(text))
        return edits


def _set_pin_state(session: Session, community_id: int, broadcast_id: int, state: str) -> None:
    broadcast = BroadcastRepository(session, community_id).get(broadcast_id)
    if broadcast is not None:
        broadcast.pin_state, broadcast.report_dirty = state, True


def _tell_admins_once(
    session: Session, community_id: int, catalogs: Catalogs, broadcast: Broadcast, tally: Tally
) -> None:
    """The stream admins get the final report once (the seed bot reported every broadcast to them): when the
    delivery finished, or, for a broadcast asking «Ознакомлен», with the sender's final tally after the nudge,
    so its acknowledgements are counted, not «0». Each reads it in their own language."""
    if broadcast.admins_told:
        return
    broadcast.admins_told = True
    members = MemberRepository(session, community_id)
    admins = [m.vk_id for m in members.admins() if m.vk_id != broadcast.sender_vk_id]
    outbox = OutboxRepository(session, community_id)
    for admin, locale in members.locales(admins).items():
        texts = catalogs[locale]
        report, _keyboard = render_report(texts, broadcast, tally)
        queue_reply(
            session, community_id, admin, MessageContent(texts("broadcast.admin_report", report=report)), outbox
        )


def send_nudges(database: Database, community_id: int, texts: Texts | Catalogs) -> int:
    """Remind non-acknowledgers once, and give the sender (and the stream admins) the final tally, each in
    their language; returns reminders queued."""
    catalogs = as_catalogs(texts)

    def nudge(session: Session) -> int:
        broadcasts = BroadcastRepository(session, community_id)
        follow_ups = BroadcastFollowUps(session, community_id)
        outbox = OutboxRepository(session, community_id)
        members = MemberRepository(session, community_id)
        queued = 0
        for broadcast in follow_ups.due_nudges(utcnow()):
            broadcast.nudged = True
            for vk_id, locale in members.locales(follow_ups.unacknowledged_ids(broadcast.id)).items():
                reader = catalogs[locale]
                title = report_title(reader, broadcast)
                reminder = MessageContent(reader("broadcast.nudge", title=title), nudge_keyboard(broadcast, locale))
                queue_reply(session, community_id, vk_id, reminder, outbox)
                queued += 1
            tally = broadcasts.tally(broadcast.id)
            sender = catalogs[members.locales([broadcast.sender_vk_id])[broadcast.sender_vk_id]]
            text, keyboard = render_report(sender, broadcast, tally)
            final = MessageContent(sender("broadcast.final_tally", report=text), keyboard)
            queue_reply(session, community_id, broadcast.sender_vk_id, final, outbox)
            _tell_admins_once(session, community_id, catalogs, broadcast, tally)
        return queued

    return database.transaction(nudge)
