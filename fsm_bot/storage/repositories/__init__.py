"""Repositories: the only code that writes SQL for the engine's tables. Each takes a Session."""

from fsm_bot.storage.repositories.attendance import AbsenceRecord, AttendanceRepository, SaveResult
from fsm_bot.storage.repositories.broadcast_followups import BroadcastFollowUps
from fsm_bot.storage.repositories.broadcast_queue import BroadcastQueueRepository
from fsm_bot.storage.repositories.broadcasts import AckResult, BroadcastRepository, Tally
from fsm_bot.storage.repositories.communities import CommunityRepository
from fsm_bot.storage.repositories.dialogs import DialogRepository
from fsm_bot.storage.repositories.events import CursorRepository, InboxRepository, ReceivedEvent
from fsm_bot.storage.repositories.members import MemberProfile, MemberRepository
from fsm_bot.storage.repositories.outbox import OutboxRepository
from fsm_bot.storage.repositories.polls import PollRepository
from fsm_bot.storage.repositories.scheduled import ScheduledMessageRepository
from fsm_bot.storage.repositories.subscriptions import Firing, Subscriber, SubscriptionRepository
from fsm_bot.storage.repositories.timetable import TimetableRepository
from fsm_bot.storage.repositories.timetable_feeds import FeedMemory, TimetableFeedRepository

__all__ = [
    "AbsenceRecord",
    "AckResult",
    "AttendanceRepository",
    "BroadcastFollowUps",
    "BroadcastQueueRepository",
    "BroadcastRepository",
    "CommunityRepository",
    "CursorRepository",
    "DialogRepository",
    "FeedMemory",
    "Firing",
    "InboxRepository",
    "MemberProfile",
    "MemberRepository",
    "OutboxRepository",
    "PollRepository",
    "ReceivedEvent",
    "SaveResult",
    "ScheduledMessageRepository",
    "Subscriber",
    "SubscriptionRepository",
    "Tally",
    "TimetableFeedRepository",
    "TimetableRepository",
]
