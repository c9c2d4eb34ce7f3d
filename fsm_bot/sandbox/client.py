"""A small typed client for the control API, and a ``requests`` session that sends ``vk_api`` to the sandbox.

``vk_api`` 11.10 hard-codes ``https://api.vk.ru/method/``; :func:`vk_session_for` mounts a transport adapter
on that prefix that rewrites each request to the sandbox (VK_PROTOCOL.md, "Transport"). Long poll and upload
URLs come from the sandbox's own answers, so they need no rewriting.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, NotRequired, TypedDict

import requests
from requests.adapters import HTTPAdapter

VK_API_PREFIX = "https://api.vk.ru/"
_UNSET: Any = object()


class SandboxUser(TypedDict):
    id: int
    first_name: str
    last_name: str
    allow_messages: bool
    member: bool
    role: str | None
    screen_name: NotRequired[str]  # an extension: the short address, when one is set


class SentMessage(TypedDict):
    message_id: int
    conversation_message_id: int
    event_id: str


# Functional form: "from" is a Python keyword.
ConversationMessage = TypedDict(
    "ConversationMessage",
    {
        "id": int,
        "conversation_message_id": int,
        "from": str,  # "bot" or "user"
        "text": str,
        "attachments": list[dict[str, Any]],
        "keyboard": dict[str, Any] | None,
        "random_id": int,
        "date": int,
    },
)


class SandboxError(RuntimeError):
    """The control API refused a request (4xx ``{"error": ...}``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class _RewriteAdapter(HTTPAdapter):
    def __init__(self, base_url: str) -> None:
        super().__init__(pool_maxsize=32)
        self.base_url = base_url.rstrip("/") + "/"

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith(VK_API_PREFIX):
            request.url = self.base_url + request.url[len(VK_API_PREFIX) :]
        return super().send(request, *args, **kwargs)


def vk_session_for(sandbox: str | Any, token: str | None = None) -> requests.Session:
    """A ``requests.Session`` for ``vk_api.VkApi(token=..., session=...)`` that talks to ``sandbox``.

    ``sandbox`` is a base URL or anything with ``.url`` (``SandboxServer``, ``SandboxClient``). ``token``,
    when given, is sent as ``Authorization: Bearer`` for clients that do not pass ``access_token``.
    """
    base_url = sandbox if isinstance(sandbox, str) else sandbox.url
    session = requests.Session()
    adapter = _RewriteAdapter(base_url)
    session.mount(VK_API_PREFIX, adapter)
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


class SandboxClient:
    """The control API of a running sandbox, one method per route (SANDBOX_API.md)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v is not None}
        response = self.http.request(
            method, f"{self.url}/sandbox/{path}", json=body, params=params, timeout=self.timeout
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxError(response.status_code, message)
        return response.json()

    # --- the community and the sandbox itself
    def reset(self, rps_limit: int | None = _UNSET, *, demo: bool = False) -> None:
        """Forget everything; ``rps_limit`` None or 0 is unlimited, omitted is the server's default."""
        body: dict[str, Any] = {"demo": demo}
        if rps_limit is not _UNSET:
            body["rps_limit"] = rps_limit
        self._call("POST", "reset", body)

    def community(self) -> dict[str, Any]:
        return self._call("GET", "community")

    def set_community(self, **changes: Any) -> dict[str, Any]:
        """PATCH the community's switches (``messages``, ``bots_capabilities``, ...) and ``token_permissions``."""
        return self._call("PATCH", "community", changes)

    @cached_property
    def group_id(self) -> int:
        """The community's id (fixed for the server's life, so asked once)."""
        return self.community()["group_id"]

    @cached_property
    def token(self) -> str:
        """The first community token (the one a bot under test would normally use)."""
        return self.community()["tokens"][0]

    @property
    def api_url(self) -> str:
        return f"{self.url}/method/"

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def log(self) -> list[dict[str, Any]]:
        return self._call("GET", "log")

    def inject_fault(self, target: str, kind: int | str, count: int = 1) -> None:
        """The next ``count`` requests to ``target`` (a method, ``"*"`` or ``"longpoll"``) fail as ``kind``."""
        self._call("POST", "faults", {"target": target, "kind": kind, "count": count})

    def longpoll_config(
        self, *, history_seconds: float | None = _UNSET, history_events: int | None = None
    ) -> dict[str, Any]:
        """Bound the long poll's history by age (None: no age bound) and/or count; the current bounds.

        Called without arguments it only reads them. A ``ts`` older than the bounds is answered ``failed: 1``.
        """
        body: dict[str, Any] = {}
        if history_seconds is not _UNSET:
            body["history_seconds"] = history_seconds
        if history_events is not None:
            body["history_events"] = history_events
        if not body:
            return self._call("GET", "longpoll/config")
        return self._call("POST", "longpoll/config", body)

    def set_callback(self, url: str | None, secret: str = "", *, connections: int = 1, keep_alive: bool = True) -> str:
        """Push updates to ``url`` like VK's Callback API; returns the confirmation code.

        ``connections`` > 1 keeps that many updates in flight (order no longer kept); ``keep_alive=False``
        opens a new TCP connection per POST. Sent only when not the default, so the request stays the contract's.
        """
        body: dict[str, Any] = {"url": url, "secret": secret}
        if connections != 1:
            body["connections"] = connections
        if not keep_alive:
            body["keep_alive"] = False
        return self._call("POST", "callback", body)["confirmation"]

    # --- users
    def add_user(
        self,
        first_name: str = "Иван",
        last_name: str = "Петров",
        *,
        allow_messages: bool = True,
        member: bool = True,
        role: str | None = None,
        user_id: int | None = None,
        sex: int | None = None,
        screen_name: str | None = None,
        lang_id: int | None = None,
    ) -> SandboxUser:
        """``sex`` (VK's 1 female, 2 male, 0 unknown) and ``screen_name`` (a short address, vk.com/<it>) are
        extension fields, sent only when given."""
        body: dict[str, Any] = {
            "first_name": first_name,
            "last_name": last_name,
            "allow_messages": allow_messages,
            "member": member,
            "role": role,
        }
        if user_id is not None:
            body["id"] = user_id
        if sex is not None:
            body["sex"] = sex
        if lang_id is not None:
            body["lang_id"] = lang_id
        if screen_name is not None:
            body["screen_name"] = screen_name
        return self._call("POST", "users", body)

    def users(self) -> list[SandboxUser]:
        return self._call("GET", "users")

    def update_user(self, user_id: int, **changes: Any) -> SandboxUser:
        """PATCH ``allow_messages`` / ``member`` / ``role``: emits the matching VK update."""
        return self._call("PATCH", f"users/{user_id}", changes)

    def send(
        self,
        user_id: int,
        text: str = "",
        *,
        payload: str | dict[str, Any] | None = None,
        attachments: list[Any] | None = None,
        fwd_messages: list[dict[str, Any]] | None = None,
    ) -> SentMessage:
        """The user writes to the community: ``message_new``."""
        body = {"text": text, "payload": payload, "attachments": attachments or [], "fwd_messages": fwd_messages or []}
        return self._call("POST", f"users/{user_id}/send", body)

    def add_file(self, user_id: int, name: str, content: bytes, *, kind: str = "doc") -> dict[str, Any]:
        """A file of the user's (``kind`` "doc" or "photo") as a VK attachment object, to pass to :meth:`send`.

        Its ``url`` serves ``content``, so a bot can download what the user sent.
        """
        body = {"type": kind, "name": name, "content_base64": base64.b64encode(content).decode("ascii")}
        return self._call("POST", f"users/{user_id}/files", body)

    def press(
        self, user_id: int, message_id: int, label: str | None = None, *, row: int | None = None, col: int | None = None
    ) -> dict[str, Any]:
        """Press a button of a bot message by label or by ``row``/``col``; ``{"event_id", ...}``."""
        body: dict[str, Any] = {"message_id": message_id}
        if label is not None:
            body["label"] = label
        else:
            body.update(row=row, col=col)
        return self._call("POST", f"users/{user_id}/press", body)

    def messages(self, user_id: int, since: int | None = None) -> list[ConversationMessage]:
        """The user's conversation with the community, oldest first (ids greater than ``since``)."""
        return self._call("GET", f"users/{user_id}/messages", since=since)

    def snackbars(self, user_id: int) -> list[dict[str, Any]]:
        return self._call("GET", f"users/{user_id}/snackbars")

    def wait_for_messages(
        self,
        user_id: int,
        count: int = 1,
        predicate: Callable[[ConversationMessage], bool] | None = None,
        *,
        since: int | None = None,
        timeout: float = 5.0,
    ) -> list[ConversationMessage]:
        """Wait until the bot has sent ``user_id`` at least ``count`` messages (matching ``predicate``).

        Returns those bot messages, oldest first. Counts all of the conversation unless ``since`` (a message
        id) says where to start: pass the id of the user's last message to wait for the answers to it.
        Raises ``TimeoutError`` listing what did arrive, so a failing test says what the user saw instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m for m in self.messages(user_id, since) if m["from"] == "bot" and (predicate is None or predicate(m))
            ]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                texts = [m["text"] for m in self.messages(user_id, since)]
                raise TimeoutError(f"user {user_id} got {len(found)} of {count} bot messages; conversation: {texts}")
            time.sleep(0.02)

    # --- group chats (extension routes)
    def create_chat(self, title: str, member_ids: list[int], *, bot_is_admin: bool = False) -> int:
        """A group chat with the bot in it; returns its peer_id (2000000000 + chat id)."""
        body = {"title": title, "member_ids": member_ids, "bot_is_admin": bot_is_admin}
        return self._call("POST", "chats", body)["peer_id"]

    def chat_send(self, peer_id: int, from_id: int, text: str, *, payload: Any = None) -> SentMessage:
        body = {"from_id": from_id, "text": text, "payload": payload}
        return self._call("POST", f"chats/{peer_id}/send", body)

    def chat_messages(self, peer_id: int, since: int | None = None) -> list[dict[str, Any]]:
        return self._call("GET", f"chats/{peer_id}/messages", since=since)

    def chat_press(
        self, peer_id: int, from_id: int, conversation_message_id: int, label: str | None = None, **where: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"from_id": from_id, "conversation_message_id": conversation_message_id, **where}
        if label is not None:
            body["label"] = label
        return self._call("POST", f"chats/{peer_id}/press", body)
