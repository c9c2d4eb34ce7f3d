"""Who exists in the sandbox's VK: users and the group chats the community's bot is in."""

from __future__ import annotations

from .model import Chat, User

#: First id given to a user created without one; demo users take the first ids in order.
FIRST_USER_ID = 100001


class Directory:
    """Users by id and chats by peer id; ids are predictable so tests and configs can name them."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self._next_user_id = FIRST_USER_ID

    def add_user(
        self,
        first_name: str,
        last_name: str,
        *,
        user_id: int | None = None,
        allow_messages: bool = True,
        member: bool = True,
        role: str | None = None,
        sex: int = 0,
        lang_id: int = 0,
    ) -> User:
        """Create a user; ``user_id`` must be free (the caller checks and reports that)."""
        if user_id is None:
            user_id = self._next_user_id
        user = User(user_id, first_name, last_name, allow_messages=allow_messages, member=member, role=role, sex=sex)
        user.lang_id = lang_id
        self.users[user_id] = user
        self._next_user_id = max(self._next_user_id, user_id + 1)
        return user

    def user(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def by_screen_name(self, name: str) -> User | None:
        """The user whose address vk.com/<name> is: id<id> for anyone, or a short one set for them (any case)."""
        wanted = name.lower()
        if wanted.startswith("id") and wanted[2:].isdigit():
            return self.users.get(int(wanted[2:]))
        return next((u for u in self.users.values() if (u.custom_screen_name or "").lower() == wanted), None)

    def members(self) -> list[User]:
        return sorted((u for u in self.users.values() if u.member and not u.deactivated), key=lambda u: u.id)

    def managers(self) -> list[User]:
        return sorted((u for u in self.users.values() if u.role and not u.deactivated), key=lambda u: u.id)

    def add_chat(self, title: str, member_ids: list[int], bot_is_admin: bool) -> Chat:
        chat = Chat(chat_id=len(self.chats) + 1, title=title, member_ids=member_ids, bot_is_admin=bot_is_admin)
        self.chats[chat.peer_id] = chat
        return chat

    def chat(self, peer_id: int) -> Chat | None:
        return self.chats.get(peer_id)
