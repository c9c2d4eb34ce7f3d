"""Repositories: the only code that writes SQL for the engine's tables. Each takes a Session."""

from fsm_bot.storage.repositories.communities import CommunityRepository
from fsm_bot.storage.repositories.dialogs import DialogRepository
from fsm_bot.storage.repositories.events import CursorRepository, ProcessedEventRepository
from fsm_bot.storage.repositories.members import MemberProfile, MemberRepository

__all__ = [
    "CommunityRepository",
    "CursorRepository",
    "DialogRepository",
    "MemberProfile",
    "MemberRepository",
    "ProcessedEventRepository",
]
