"""The running bot: settings in, every part wired together, started and stopped in order.

Start order: database and migrations, VK token check, members, then sender, dispatcher,
scheduler and finally the event source, so nothing arrives before something can handle it.
Stop order is the reverse: the source stops taking events, the dispatcher finishes the ones in
flight (their effects commit or they stay in the inbox), the sender finishes its requests.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

import flows
from fsm_bot.config import CallbackSettings, Settings
from fsm_bot.delivery.broadcasts import BroadcastQueue
from fsm_bot.delivery.effects import AfterCommitEffects
from fsm_bot.delivery.replies import ReplyQueue
from fsm_bot.delivery.scheduled import send_due_messages
from fsm_bot.delivery.sender import Delivery, Sender
from fsm_bot.delivery.uploads import DocumentUploader
from fsm_bot.engine.dispatcher import Dispatcher
from fsm_bot.engine.handler import EventHandler
from fsm_bot.engine.inbox import Inbox
from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.timeouts import expire_dialogs
from fsm_bot.members.seeding import GroupLeaders, Seed, seed_from_settings
from fsm_bot.members.sync import profile_of, sync_members
from fsm_bot.runtime.timekeeper import Timekeeper
from fsm_bot.scheduler import BotScheduler, register_job_target
from fsm_bot.scheduler.leadership import Leadership
from fsm_bot.scheduler.runtime import job_target, unregister_job_target
from fsm_bot.services.community import services_factory
from fsm_bot.services.options import CommunityOptions
from fsm_bot.services.polls import close_due_polls
from fsm_bot.services.reports import ReportUpdater, send_nudges
from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.repositories import InboxRepository, MemberProfile, MemberRepository
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs
from fsm_bot.vk.callback import CallbackCommunity, callback_server, create_callback_app
from fsm_bot.vk.catch_up import CatchUp
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import Outcome, VkCallError
from fsm_bot.vk.group_commit import GroupCommitSink
from fsm_bot.vk.longpoll import LongPollSource
from fsm_bot.vk.screen_names import resolve_screen_names
from fsm_bot.vk.transport import make_vk_api

log = logging.getLogger(__name__)

FLOW_CATALOGS = Path(flows.__file__).parent / "locales"
CONNECT_TIMEOUT = 10  # seconds start() waits for the long poll's first cursor
INBOX_KEEP = timedelta(days=1)
INBOX_PRUNE_SECONDS = 6 * 3600
REPLAN = "replan"  # a request to the scheduler's process: re-plan a community's reminders


class BotFailed(RuntimeError):
    """The bot cannot go on (a revoked token, a refused long poll); the message says why."""


@dataclass(frozen=True)
class SharedParts:
    """What the bots of one process share when it serves several communities (fsm_bot.runtime.service):
    one connection pool, one scheduler (one per process; see scheduler.leadership), one leadership."""

    database: Database
    scheduler: BotScheduler
    leadership: Leadership


class Bot:
    """One community's bot. Alone (`Bot(settings)`) it runs everything itself: migrations, the
    scheduler when it leads, its event source. Inside a Service it shares those with other bots."""

    def __init__(self, settings: Settings, shared: SharedParts | None = None) -> None:
        settings.require_token()
        self.settings = settings
        self.community_id = int(settings.vk.group_id or 0)
        self.alone = shared is None
        if shared is None:
            database = Database(settings.database.url, echo=settings.database.echo)
            shared = SharedParts(
                database,
                BotScheduler(database.engine, settings.timezone),
                Leadership(
                    database,
                    on_elected=self._elected_alone,
                    on_lost=lambda error: self.scheduler.pause(),
                    on_request=self.serve_request,
                    check_seconds=settings.engine.leader_check_seconds,
                ),
            )
        self.database = shared.database
        self.scheduler = shared.scheduler
        self.leadership = shared.leadership
        self.client = VkClient(
            settings.vk.all_tokens(),
            settings.vk.api_url,
            settings.vk.api_version,
            rps_limit=token_share(settings.vk.rps_limit, settings.engine.processes),
        )
        # Every language the bot speaks; each person reads theirs, the settings' `locale` when it is not known.
        self.catalogs = Catalogs.load(settings.locale, [FLOW_CATALOGS])
        self.texts = self.catalogs.default
        self.registry = FlowRegistry.from_names(settings.flows)  # with the words of its flows' catalogs
        # Checked in the default language; another lacking a text reads the default's (fsm_bot/texts.py).
        missing = self.registry.missing_texts(self.texts.has)
        if missing:
            raise BotFailed(f"texts missing from the {settings.locale} catalog: {', '.join(missing)}")
        self.inbox: Inbox | None = None
        self.sender: Sender | None = None
        self.dispatcher: Dispatcher | None = None
        self.source: LongPollSource | None = None
        self._callback_server = None
        self._callback_thread: threading.Thread | None = None
        self.handler: EventHandler | None = None
        self.reports: ReportUpdater | None = None
        self.uploads: DocumentUploader | None = None
        self.timekeeper: Timekeeper | None = None
        self.catch_up: CatchUp | None = None
        self.stopped = threading.Event()
        self.failure: Exception | None = None
        self._stop_lock = threading.Lock()
        self._stopping = False

    @property
    def job_name(self) -> str:
        return f"bot:{self.community_id}"

    # --- life cycle

    def start(self) -> None:
        if self.alone:
            revision = upgrade_to_head(self.database.engine)
            log.info("database at revision %s", revision)
        self._check_token()
        self.seed()
        lease = timedelta(seconds=self.settings.engine.lease_seconds)
        self.inbox = Inbox(self.database, self.community_id, lease)
        if self.settings.engine.processes == 1:
            self.inbox.take_over()
        self.sender = Sender(
            self.database,
            self.client,
            [ReplyQueue(self.community_id), BroadcastQueue(self.community_id)],
            on_delivery=self._on_delivery,
            on_fatal=self._fail,
            lease=lease,
            resume_all=self.settings.engine.processes == 1,
        )
        override = self.settings.engine.dialog_timeout_seconds
        options = CommunityOptions(
            nudge_after=timedelta(minutes=self.settings.broadcast.nudge_after_minutes),
            timezone=ZoneInfo(self.settings.timezone),
            ics_days=self.settings.reminders.ics_days,
            hours_per_lesson=self.settings.attendance.hours_per_lesson,
        )
        self.handler = EventHandler(
            self.database,
            self.community_id,
            self.registry,
            self.catalogs,
            self._lookup_profile,
            services_factory(
                self.community_id,
                options,
                self.registry.names,
                lambda names: resolve_screen_names(self.client, names),
            ),
            dialog_timeout=timedelta(seconds=override) if override else None,
            place_newcomers=self.zero_config,
        )
        self.uploads = DocumentUploader(
            self.database,
            self.community_id,
            self.client,
            self.sender.wake,
            lambda name: self.texts("documents.upload_failed", name=name),
        )
        self.reports = ReportUpdater(
            self.database, self.community_id, self.catalogs, self.client, self.leadership.leading
        )
        after_commit = AfterCommitEffects(
            self.client,
            self.sender.wake,
            self.uploads.wake,
            lambda: self.leadership.request(f"{REPLAN}:{self.community_id}"),
        )
        self.dispatcher = Dispatcher(
            self.inbox, self.handler, after_commit, self.settings.engine.workers, typing=self._typing
        )
        self.timekeeper = Timekeeper(
            self.settings, self.database, self.community_id, self.scheduler, self.inbox, self.catalogs, self.sender.wake
        )
        self.catch_up = CatchUp(
            self.client,
            self.community_id,
            self.inbox,
            hours=self.settings.engine.catch_up_hours,
            share=catch_up_share(self.settings.vk.rps_limit, self.settings.engine.processes),
            max_backlog=self.settings.engine.workers,
            api_version=self.settings.vk.api_version,
        )
        register_job_target(self.job_name, self)
        self.catch_up.start()
        self.sender.start()
        self.uploads.start()
        self.reports.start()
        self.dispatcher.start()
        if self.alone:
            self.leadership.start()  # leads at once when nobody else does (always, on SQLite)
            self._start_source()
            self.log_running()

    def log_running(self) -> None:
        """Said once events can arrive (people and tests wait for this line)."""
        log.info("bot for community %d is running (%s mode)", self.community_id, self.settings.vk.mode)

    def lead(self) -> None:
        """This process now runs the scheduler (the shared one is started): the community's jobs,
        a member sync, and the reminders' catch-up and plan. Called once, by the leadership."""
        assert self.timekeeper is not None
        self.sync_members()
        self.scheduler.every(
            f"due-sweep:{self.community_id}",
            sweep_due_job,
            self.settings.engine.sweep_seconds,
            community_id=self.community_id,
        )
        self.scheduler.every(
            f"prune-inbox:{self.community_id}", prune_inbox_job, INBOX_PRUNE_SECONDS, community_id=self.community_id
        )
        self.scheduler.every(
            f"member-sync:{self.community_id}",
            sync_members_job,
            self.settings.engine.member_sync_minutes * 60,
            community_id=self.community_id,
        )
        self.timekeeper.start()
        if self.catch_up is not None:
            # Whatever VK dropped while no process was up (a push it gave up on), or a catch-up the last run
            # did not finish; the long poll asks for its own when VK's history no longer reaches its ts.
            self.catch_up.request(f"start in {self.settings.vk.mode} mode")

    def serve_request(self, payload: str) -> None:
        """A request another process sent to the leader (see Leadership.request)."""
        if (
            payload == f"{REPLAN}:{self.community_id}"
            and self.timekeeper is not None
            and self.leadership.leading.is_set()
        ):
            self.timekeeper.plan()

    def _elected_alone(self) -> None:
        self.scheduler.start()
        self.lead()

    def stop(self) -> None:
        """Stop taking events, finish what is in flight, persist, return. Safe to call twice."""
        with self._stop_lock:
            if self._stopping:
                self.stopped.wait(60)
                return
            self._stopping = True
        if self.source is not None:
            self.source.stop()
        if self.catch_up is not None:
            self.catch_up.stop()
        if self._callback_server is not None:
            self._callback_server.should_exit = True
            if self._callback_thread is not None:
                self._callback_thread.join(10)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.alone:
            self.leadership.stop()
            self.scheduler.stop()
        if self.timekeeper is not None:
            self.timekeeper.stop()
        if self.uploads is not None:
            self.uploads.stop()
        if self.sender is not None:
            self.sender.stop()
        if self.reports is not None:
            self.reports.stop()
        unregister_job_target(self.job_name)
        self.client.stop.set()
        if self.alone:
            self.database.dispose()
        self.stopped.set()
        log.info("bot stopped")

    def wait(self, stop_requested: threading.Event) -> None:
        """Run until `stop_requested` (a signal) or a failure, then stop; BotFailed says why it failed."""
        while not stop_requested.wait(0.5) and not self.stopped.is_set():
            self.check_source()
        self.stop()
        if self.failure is not None:
            raise BotFailed(str(self.failure))

    def _fail(self, error: Exception) -> None:
        if self.failure is None:
            self.failure = error
            log.error("the bot cannot go on: %s", error)
            threading.Thread(target=self.stop, name="stop-after-failure", daemon=True).start()

    # --- parts

    def _check_token(self) -> None:
        try:
            answer = self.client.call("groups.getById", {"group_id": self.community_id})
        except VkCallError as error:
            raise BotFailed(str(error)) from None
        groups = answer.get("groups", []) if isinstance(answer, dict) else answer
        if groups:
            log.info("community %s (%d)", groups[0].get("name", "?"), self.community_id)

    def check_source(self) -> None:
        """A long poll that gave up (a refused server, a revoked token) stops the bot, saying why."""
        if self.source is not None and not self.source.running and self.source.error is not None:
            self._fail(self.source.error)

    def _start_source(self) -> None:
        if self.settings.vk.mode == "longpoll":
            self.start_long_poll()
            return
        self._callback_server, self._callback_thread = start_callback_endpoint(
            self.settings.vk.callback, [self.callback_community()]
        )

    def start_long_poll(self) -> None:
        assert self.inbox is not None
        vk = self.settings.vk
        api = make_vk_api(vk.all_tokens()[0], vk.api_url, vk.api_version)
        self.source = LongPollSource(
            api, self.community_id, self.inbox, on_gap=self.catch_up.request if self.catch_up else None
        )
        self.source.start()
        if not self.source.wait_connected(CONNECT_TIMEOUT):
            log.warning("long poll: not connected yet after %ds; still trying", CONNECT_TIMEOUT)

    def callback_community(self) -> CallbackCommunity:
        """This community as the callback endpoint routes to it (by group_id)."""
        assert self.inbox is not None
        callback = self.settings.vk.callback
        if callback.secret is None or not callback.confirmation:
            raise BotFailed(
                f"community {self.community_id}: callback mode needs its secret and confirmation "
                "(vk.callback.secret/confirmation, or secret/confirmation in its communities entry)"
            )
        return CallbackCommunity(
            self.community_id,
            callback.secret.get_secret_value(),
            callback.confirmation,
            GroupCommitSink(self.inbox),  # concurrent pushes stored in one transaction
            on_trouble=self.catch_up.request if self.catch_up else None,
        )

    @property
    def zero_config(self) -> bool:
        """No study groups in settings: the community is one study group (members/placement.py)."""
        return self.settings.stream.community_group and not self.settings.stream.groups

    def seed(self) -> None:
        """settings.yaml's study groups, leaders, chats and approval switch, copied into a database that has
        never had them (members/seeding.py): after the first start the database is the truth."""
        stream = self.settings.stream
        seed = Seed(
            {
                name: GroupLeaders(group.headman, tuple(group.deputies), group.chat_peer_id)
                for name, group in stream.groups.items()
            },
            stream.auto_approve,
        )
        if self.database.transaction(lambda session: seed_from_settings(session, self.community_id, seed)):
            log.info("study groups and approval seeded from the settings (%d group(s))", len(seed.groups))

    def sync_members(self) -> None:
        try:
            sync_members(self.client, self.database, self.community_id, community_group=self.zero_config)
        except VkCallError as error:
            log.warning("members could not be synced now (%s); will retry at the next sync", error)

    def sweep_dialogs(self) -> int:
        """Timed-out dialogs ended, due scheduled messages queued: both are checks of "is it time"."""
        assert self.handler is not None and self.sender is not None
        ended = expire_dialogs(self.database, self.community_id, self.registry, self.catalogs, self.handler.menu_for)
        due = send_due_messages(self.database, self.community_id)
        nudged = send_nudges(self.database, self.community_id, self.catalogs)
        closed = close_due_polls(self.database, self.community_id, self.catalogs)  # their results to the authors
        if ended or due or nudged or closed:
            self.sender.wake()
        return ended + due + nudged + closed

    def prune_inbox(self) -> int:
        """Handled events older than a day: VK repeats an event within minutes, never a day later; a
        catch-up reads messages back as far as engine.catch_up_hours and needs their keys that long."""
        cutoff = utcnow() - max(INBOX_KEEP, timedelta(hours=self.settings.engine.catch_up_hours + 1))
        pruned = self.database.transaction(lambda session: InboxRepository(session, self.community_id).prune(cutoff))
        if pruned:
            log.info("pruned %d handled event(s) older than a day", pruned)
        return pruned

    def _typing(self, peer_id: int) -> None:
        """Show "typing..." only with requests to spare: when the token is busy, the replies are what is slow, and
        a setActivity would take a request from them (bench/engine.py: 50 of 73 requests in a busy round)."""
        slot = self.client.spare_slot()
        if slot is not None:
            self.client.call("messages.setActivity", {"peer_id": peer_id, "type": "typing"}, slot=slot)

    def _lookup_profile(self, user_id: int) -> MemberProfile | None:
        try:
            [profile] = self.client.call("users.get", {"user_ids": user_id, "fields": "sex"})
        except (VkCallError, ValueError) as error:
            log.warning("no profile for %d now: %s", user_id, error)
            return None
        return profile_of({**profile, "id": user_id})

    def _on_delivery(self, deliveries: list[Delivery]) -> None:
        unreachable = [d.peer_id for d in deliveries if d.outcome in (Outcome.CANNOT_RECEIVE, Outcome.GONE)]
        if not unreachable:
            return

        def mark(session: Session) -> None:
            members = MemberRepository(session, self.community_id)
            for peer in unreachable:
                members.set_can_receive(peer, False)

        self.database.transaction(mark)


def token_share(rps_limit: int, processes: int) -> int:
    """Each of `processes` paces a token at an equal share of its limit, so that together they
    stay within it in every second (a shared limiter in the database would cost a round trip per
    request; the share costs only when one process is busy while another idles)."""
    return max(1, rps_limit // processes)


def catch_up_share(rps_limit: int, processes: int) -> int:
    """The catch-up's requests per second: a fifth of this process's share of a token, so live
    events keep most of it while a catch-up reads a thousand conversations (bench/catch_up.py)."""
    return max(1, token_share(rps_limit, processes) // 5)


def start_callback_endpoint(
    callback: CallbackSettings, communities: list[CallbackCommunity], listen_fd: int | None = None
) -> tuple[Any, threading.Thread]:
    """Serve VK's Callback API for `communities` on a thread; returns once it listens.

    `listen_fd` is a listening socket inherited from `fsm-bot run --workers N`, shared by its
    processes (the kernel hands each new connection to one of them)."""
    app = create_callback_app(communities, callback.path)
    server = callback_server(app, callback.host, callback.port)
    sockets = [socket.socket(fileno=listen_fd)] if listen_fd is not None else None
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets}, name="callback", daemon=True)
    thread.start()
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while not server.started:  # VK's confirmation request may come at once
        if not thread.is_alive() or time.monotonic() > deadline:
            raise BotFailed(f"the callback endpoint could not listen on {callback.host}:{callback.port}")
        time.sleep(0.02)
    log.info("callback endpoint at http://%s:%d%s", callback.host, callback.port, callback.path)
    return server, thread


def sweep_due_job(community_id: int) -> None:
    """Persisted job: end timed-out dialogs, send due scheduled messages (stored by this import path)."""
    job_target(f"bot:{community_id}").sweep_dialogs()


def prune_inbox_job(community_id: int) -> None:
    """Persisted job: forget handled events older than a day."""
    job_target(f"bot:{community_id}").prune_inbox()


def sync_members_job(community_id: int) -> None:
    """Persisted job: refresh members from VK."""
    job_target(f"bot:{community_id}").sync_members()
