"""Who may do what: roles ordered from student to stream admin.

Checked on every privileged step, not only when a dialog starts: a button payload is just JSON
the client sends, and anyone can send any JSON.
"""

from __future__ import annotations

from fsm_bot.storage.models import Role

_RANK = {Role.STUDENT: 0, Role.DEPUTY: 1, Role.HEADMAN: 2, Role.ADMIN: 3}

# groups.getMembers(filter=managers) roles that make someone an admin of the whole stream.
ADMIN_MANAGER_ROLES = frozenset({"creator", "administrator", "editor"})


def allows(role: Role | str, required: Role) -> bool:
    return _RANK[Role(role)] >= _RANK[required]


class Forbidden(Exception):
    """Raised inside a handler when the member lacks the role; the engine answers politely."""

    def __init__(self, required: Role) -> None:
        super().__init__(f"requires {required.value}")
        self.required = required
