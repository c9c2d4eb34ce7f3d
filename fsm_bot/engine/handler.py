"""Handling one inbox event in one unit of work (DESIGN.md, "Life of an event", steps 3-5).

Everything an event causes (the member's update, the dialog's new state, the replies) commits in
one transaction together with the inbox row's `handled_at`; the side calls that need no
exactly-once guarantee (the snackbar answering a callback press) go out after the commit.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fsm_bot.delivery.effects import AfterCommit
from fsm_bot.delivery.replies import queue_reply
from fsm_bot.engine.context import Command
from fsm_bot.engine.conversation import Conversation, ServicesFactory
from fsm_bot.engine.flow import Flow
from fsm_bot.engine.inbox import QueuedEvent
from fsm_bot.engine.menu import commands, main_menu
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.routing import GlobalWords
from fsm_bot.engine.saving import Handled, snackbar_for
from fsm_bot.members.info import MemberInfo
from fsm_bot.members.placement import place_newcomer
from fsm_bot.storage import Database
from fsm_bot.storage.db import is_transient
from fsm_bot.storage.models import Member
from fsm_bot.storage.repositories import InboxRepository, MemberProfile, MemberRepository
from fsm_bot.storage.repositories.members import MemberAtHand
from fsm_bot.texts import Catalogs, Texts, as_catalogs, locale_of_lang_id
from fsm_bot.vk.events import IncomingEvent, MalformedEvent
from fsm_bot.vk.messages import MessageContent

log = logging.getLogger(__name__)


class HandledElsewhere(Exception):
    """An event of a batch was handled by another process meanwhile: the batch is undone and tried again
    in halves, down to single events, where that one is simply skipped."""

    def __init__(self, row_ids: Sequence[int]) -> None:
        super().__init__(f"one of the events {list(row_ids)[:10]} was handled by another process")


ProfileLookup = Callable[[int], MemberProfile | None]
KNOWN_MEMBERS_CACHE = 10_000
EVENT_TRANSACTION_TRIES = 2


class EventHandler:
    """Runs each inbox event in its own unit of work; the Conversation decides what the event means."""

    def __init__(
        self,
        database: Database,
        community_id: int,
        registry: FlowRegistry,
        texts: Texts | Catalogs,
        lookup_profile: ProfileLookup,
        services: ServicesFactory,
        dialog_timeout: timedelta | None = None,
        place_newcomers: bool = False,
    ) -> None:
        """`services` makes what a flow's `ctx.services` is, per event (the runtime knows the features; the
        engine does not); `dialog_timeout` replaces every flow's own timeout when set; `place_newcomers`
        (zero configuration) puts a person seen for the first time into the community's only study group."""
        self.services = services
        self.place_newcomers = place_newcomers
        self.dialog_timeout = dialog_timeout
        self.database = database
        self.community_id = community_id
        self.registry = registry
        self.catalogs = as_catalogs(texts)
        self.texts = self.catalogs.default
        self.lookup_profile = lookup_profile
        self._known_members: OrderedDict[int, None] = OrderedDict()
        self._known_lock = threading.Lock()
        self.words = GlobalWords(
            cancel=frozenset(self.catalogs.variants("words.cancel")),  # understood in every language
            back=frozenset(self.catalogs.variants("words.back")),
            menu=frozenset(self.catalogs.variants("words.menu")),
        )

    # --- entry point

    def handle(self, queued: QueuedEvent) -> Handled:
        """Handle one claimed inbox event. An outage propagates (the dispatcher tries the event again
        later); anything else that fails is a bug in this event, whether a flow's or a statement the
        database refuses (a value too long, out of range): repeating it would fail the same way and
        hold a worker for ever, so the person is answered with an error id and the event is set aside."""
        try:
            profile = self._profile_if_unknown(queued.user_id)
            # One quick second try (a pooled connection the server dropped); longer outages are the
            # dispatcher's to wait out, with the worker free meanwhile (bench/poison.py).
            return self.database.transaction(
                lambda session: self._handle(session, queued, profile), attempts=EVENT_TRANSACTION_TRIES
            )
        except DBAPIError as error:
            if is_transient(error):
                raise
            return self.set_aside(queued, error)
        except Exception as error:
            return self.set_aside(queued, error)

    def handle_batch(self, batch: Sequence[QueuedEvent]) -> list[Handled] | None:
        """Handle the events of different people in one transaction (group commit): one commit, one
        session and one connection checkout for the lot instead of one each, which is most of what an
        event costs. Per-person order holds because a batch has at most one event per person, their
        oldest waiting one, and the dispatcher gives that person nothing more until this returns.

        All or nothing: None when anything failed (an outage, one poisoned event, a race lost to another
        process); nothing of the batch was committed, and the dispatcher tries each half again (down to
        single events, `handle`, where a poisoned event is set aside and an outage waited out, alone).
        """
        profiles = self._profiles_if_unknown([queued.user_id for queued in batch])
        ordered = sorted(zip(batch, profiles, strict=True), key=lambda pair: pair[0].user_id or 0)

        def run(session: Session) -> dict[int, Handled]:
            inbox = InboxRepository(session, self.community_id)
            inbox.lock_users([queued.user_id for queued in batch if queued.user_id is not None])
            ready = inbox.readiness_of([(queued.row_id, queued.user_id) for queued in batch])
            # Everyone's rows read together once their locks are held: no read between the events' writes,
            # so those are flushed together at the commit (one INSERT of all replies on PostgreSQL).
            talking = [
                (queued.event.user_id, queued.event.peer_id)
                for queued in batch
                if ready[queued.row_id] == (True, False) and queued.event is not None and _talks(queued.event)
            ]
            at_hand = MemberRepository(session, self.community_id).all_at_hand(talking)
            handled: dict[int, Handled] = {}
            marked: list[int] = []
            for queued, profile in ordered:
                prefetched = at_hand.get(queued.user_id or 0)
                handled[queued.row_id] = self._handle(
                    session, queued, profile, marked, ready[queued.row_id], prefetched
                )
            # Marked last and together (see _handle); a row another process marked meanwhile undoes the lot.
            if not inbox.mark_all_handled(marked):
                raise HandledElsewhere(marked)
            return handled

        try:
            handled = self.database.transaction(run, attempts=1)
        except Exception as error:
            log.info("a batch of %d events failed (%s): trying it again in halves", len(batch), type(error).__name__)
            return None
        return [handled[queued.row_id] for queued in batch]

    def set_aside(self, queued: QueuedEvent, error: BaseException, attempts: int = 1) -> Handled:
        """The event failed for a reason of its own: logged once with its traceback, answered with an
        error id the person can quote, and marked handled with that error (an outage meanwhile
        propagates, and the dispatcher tries again)."""
        error_id = uuid.uuid4().hex[:8]
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        log.error("event %s failed%s (error id %s)", queued.row_id, tries, error_id, exc_info=error)
        reason = f"{type(error).__name__} (error id {error_id})"
        return self.database.transaction(lambda session: self._answer_failure(session, queued, error_id, reason))

    def _profile_if_unknown(self, user_id: int | None) -> MemberProfile | None:
        """VK's profile of a person the bot has never seen, fetched before the event's transaction
        (a VK call inside it would hold the dialog row's lock meanwhile)."""
        return self._profiles_if_unknown([user_id])[0]

    def _profiles_if_unknown(self, user_ids: Sequence[int | None]) -> list[MemberProfile | None]:
        """`_profile_if_unknown` for a batch: whom the bot has not met lately is looked up in one query."""
        with self._known_lock:
            asked = {user for user in user_ids if user is not None and user > 0 and user not in self._known_members}
        if asked:
            known = self.database.transaction(lambda session: MemberRepository(session, self.community_id).known(asked))
            for user in known:
                self._remember(user)
            asked -= known
        return [self.lookup_profile(user) if user in asked else None for user in user_ids]

    def _remember(self, user_id: int) -> None:
        # Bounded: the people active lately, so a known member costs no extra transaction per event.
        with self._known_lock:
            self._known_members[user_id] = None
            self._known_members.move_to_end(user_id)
            while len(self._known_members) > KNOWN_MEMBERS_CACHE:
                self._known_members.popitem(last=False)

    def _answer_failure(self, session: Session, queued: QueuedEvent, error_id: str, reason: str) -> Handled:
        if not InboxRepository(session, self.community_id).mark_handled(queued.row_id, reason):
            return Handled()
        event = queued.event
        if event is None or event.user_id <= 0 or event.type not in ("message_new", "message_event"):
            return Handled(error_id=error_id)  # nobody to apologise to (a membership event, a chat)
        text = self.catalogs[locale_of_lang_id(event.lang_id)]("errors.internal", error_id=error_id)
        queue_reply(session, self.community_id, event.peer_id, MessageContent(text))
        return Handled(AfterCommit(replies=1, snackbar=snackbar_for(event, text)), error_id=error_id)

    def _handle(
        self,
        session: Session,
        queued: QueuedEvent,
        profile: MemberProfile | None,
        marked: list[int] | None = None,
        ready: tuple[bool, bool] | None = None,
        at_hand: MemberAtHand | None = None,
    ) -> Handled:
        """One event in `session`. In a batch, its user is locked and its `ready`ness read already, for the
        whole batch at once, and its row id goes to `marked`, for the batch to mark handled at its end."""
        inbox = InboxRepository(session, self.community_id)
        if ready is None:
            if queued.user_id is not None:
                # Held to the commit: another process handling this user's next event waits here, and
                # what it reads next (handled_at, the dialog) is what this event left.
                inbox.lock_user(queued.user_id)
            ready = inbox.readiness(queued.row_id, queued.user_id)
        still_open, behind_another = ready
        if not still_open:
            return Handled()  # handled meanwhile (a retry after a commit whose answer was lost)
        if behind_another:
            return Handled(deferred=True)
        if queued.event is None:
            raise MalformedEvent("the envelope cannot be read")  # set aside, with the error kept on the row
        handled = self._dispatch(session, queued.event, profile, at_hand)
        if marked is not None:
            marked.append(queued.row_id)
            return handled
        # Marked last: SQLite has one writer at a time, and a transaction takes the write lock at its
        # first write, so writing early would make a slow handler hold up everyone else's events.
        if not inbox.mark_handled(queued.row_id):
            session.rollback()  # another worker handled it meanwhile (PostgreSQL, several processes)
            return Handled()
        return handled

    def _dispatch(
        self, session: Session, event: IncomingEvent, profile: MemberProfile | None, at_hand: MemberAtHand | None
    ) -> Handled:
        """`at_hand`: the person's rows when the batch has read them already."""
        members = MemberRepository(session, self.community_id)
        if event.type in ("message_allow", "message_deny", "group_join", "group_leave"):
            self._membership_event(members, event, profile)
            return Handled()
        if not _talks(event):
            return Handled()  # our own messages (message_reply/edit) and other communities' posts
        at_hand = at_hand or self._ensure_member(members, event, profile)
        handled = Conversation(self, session, event, at_hand).run()
        if event.type == "message_new" and not event.in_chat and not at_hand.member.can_receive:
            # A person who writes to the community may be answered (VK lets a community reply).
            # Written at the end, like every write here that is not the flow's own (see _handle).
            members.set_can_receive(event.user_id, True)
        return handled

    def _membership_event(self, members: MemberRepository, event: IncomingEvent, profile: MemberProfile | None) -> None:
        if event.type == "group_leave":
            members.mark_left(event.user_id)
            return
        if profile is not None:
            members.upsert_profiles([profile])
        elif event.type == "group_join":
            members.upsert_profiles([MemberProfile(event.user_id, "", "")])
        if event.type == "group_join" and self.place_newcomers:
            place_newcomer(members.session, self.community_id, event.user_id)
        if event.type in ("message_allow", "message_deny"):
            members.set_can_receive(event.user_id, event.type == "message_allow")

    def _ensure_member(
        self, members: MemberRepository, event: IncomingEvent, profile: MemberProfile | None
    ) -> MemberAtHand:
        """The person's member, group and dialog rows (one query), the member's row made first for a newcomer."""
        at_hand = members.at_hand(event.user_id, event.peer_id)
        if at_hand is None:
            members.upsert_profiles([profile or MemberProfile(event.user_id, "", "")])
            if self.place_newcomers:
                place_newcomer(members.session, self.community_id, event.user_id)
            at_hand = members.at_hand(event.user_id, event.peer_id)
            assert at_hand is not None
        return at_hand

    def member_info(self, session: Session, member: Member) -> MemberInfo:
        return MemberInfo.load(session, member)

    def timeout_for(self, flow: Flow) -> timedelta:
        return self.dialog_timeout or flow.timeout

    def menu_for(self, member: MemberInfo, in_chat: bool = False) -> str | None:
        return main_menu(self.registry, self.catalogs[member.locale], member, in_chat)

    def commands_for(self, member: MemberInfo) -> list[Command]:
        return commands(self.registry, self.catalogs[member.locale], member)


def _talks(event: IncomingEvent) -> bool:
    """A person's message or button press: what a conversation answers."""
    return event.type in ("message_new", "message_event") and event.user_id > 0
