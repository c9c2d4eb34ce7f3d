"""The control API's people routes: users (SANDBOX_API.md) and group chats (an extension, see README.md)."""

from __future__ import annotations

import json
import re
from types import EllipsisType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import nesting
from .actions import ActionError, change_user, create_chat, press, write
from .attachments import parse_attachments, unsafe_url
from .control_input import ControlError, path_int, query_int, read_json, sandbox_of, take
from .errors import VkError
from .model import CHAT_PEER_BASE, MANAGER_ROLES, Chat, Message, User
from .state import Sandbox

MAX_TEXT = 4096
MAX_NAME = 100
SEND_FIELDS = frozenset({"text", "payload", "attachments", "fwd_messages"})
PRESS_FIELDS = frozenset({"message_id", "label", "row", "col"})
SCREEN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{4,31}")
SEXES = (0, 1, 2)  # VK's users.get "sex": 0 not given, 1 female, 2 male


def _user(request: Request) -> User:
    user = sandbox_of(request).directory.user(path_int(request, "user_id"))
    if user is None:
        raise ControlError("no such user", 404)
    return user


def _chat(request: Request) -> Chat:
    chat = sandbox_of(request).directory.chat(path_int(request, "peer_id"))
    if chat is None:
        raise ControlError("no such chat", 404)
    return chat


def _role(body: dict[str, Any]) -> str | EllipsisType | None:
    """The role asked for, None to take it away, or ... when the body does not say."""
    role = take(body, "role", str, ..., nullable=True)
    if role is not ... and role is not None and role not in MANAGER_ROLES:
        raise ControlError(f"role must be null or one of {', '.join(MANAGER_ROLES)}")
    return role


def _lang_id(body: dict[str, Any], default: int) -> int:
    lang_id = take(body, "lang_id", int, default)
    if not 0 <= lang_id <= 1000:
        raise ControlError("lang_id must be VK's language number (0 Russian, 3 English, ...)")
    return lang_id


def _sex(body: dict[str, Any], default: int) -> int:
    sex = take(body, "sex", int, default)
    if sex not in SEXES:
        raise ControlError("sex must be 0 (not given), 1 (female) or 2 (male), as in VK's users.get")
    return sex


def _screen_name(sandbox: Sandbox, body: dict[str, Any], user: User | None) -> str | EllipsisType | None:
    """A short address as VK allows one (5 to 32 Latin letters, digits, «_» and «.», not id<digits>, not
    taken); null takes it away, ... when the body does not say."""
    name = take(body, "screen_name", str, ..., nullable=True)
    if name is ... or name is None:
        return name
    if not SCREEN_NAME.fullmatch(name) or re.fullmatch(r"(?:id|club|public)\d+", name, re.IGNORECASE):
        raise ControlError(
            "screen_name must be 5 to 32 Latin letters, digits, _ or ., starting with a letter, not id<digits>"
        )
    taken = sandbox.directory.by_screen_name(name)
    if (taken is not None and taken is not user) or name.lower() == sandbox.community.screen_name:
        raise ControlError(f"screen_name {name} is taken", 409)
    return name


def _name(body: dict[str, Any], field: str, default: str) -> str:
    value = take(body, field, str, default)
    if not value.strip() or len(value) > MAX_NAME:
        raise ControlError(f"{field} must be 1 to {MAX_NAME} characters")
    return value


async def add_user(request: Request) -> JSONResponse:
    """``id``, ``sex`` and ``lang_id`` are extensions: a fixed id that a settings.yaml can name (admins,
    headmen), what ``users.get(fields=sex)`` answers for them, and their app's language (client_info)."""
    body = await read_json(
        request,
        allowed=frozenset(
            {"id", "first_name", "last_name", "allow_messages", "member", "role", "sex", "screen_name", "lang_id"}
        ),
    )
    directory = sandbox_of(request).directory
    screen_name = _screen_name(sandbox_of(request), body, None)
    user_id = take(body, "id", int, None, nullable=True)
    if user_id is not None and not 1 <= user_id < CHAT_PEER_BASE:
        raise ControlError(f"id must be from 1 to {CHAT_PEER_BASE - 1}")
    if user_id in directory.users:
        raise ControlError(f"user {user_id} already exists", 409)
    role = _role(body)
    user = directory.add_user(
        _name(body, "first_name", "Тест"),
        _name(body, "last_name", "Пользователь"),
        user_id=user_id,
        allow_messages=take(body, "allow_messages", bool, True),
        member=take(body, "member", bool, True),
        role=None if role is ... else role,
        sex=_sex(body, 0),
        lang_id=_lang_id(body, 0),
    )
    user.custom_screen_name = screen_name if isinstance(screen_name, str) else None
    return JSONResponse(user.control_view())


async def list_users(request: Request) -> JSONResponse:
    users = sorted(sandbox_of(request).directory.users.values(), key=lambda u: u.id)
    return JSONResponse([u.control_view() for u in users])


async def get_user(request: Request) -> JSONResponse:
    return JSONResponse(_user(request).control_view())


async def patch_user(request: Request) -> JSONResponse:
    """Changes emit ``message_allow`` / ``message_deny`` / ``group_join`` / ``group_leave`` as VK does."""
    user = _user(request)
    body = await read_json(
        request,
        allowed=frozenset(
            {"allow_messages", "member", "role", "first_name", "last_name", "sex", "screen_name", "lang_id"}
        ),
    )
    screen_name = _screen_name(sandbox_of(request), body, user)
    allow = take(body, "allow_messages", bool, None)
    member = take(body, "member", bool, None)
    role = _role(body)
    sex = _sex(body, user.sex)
    user.first_name = _name(body, "first_name", user.first_name)
    user.last_name = _name(body, "last_name", user.last_name)
    user.sex = sex
    user.lang_id = _lang_id(body, user.lang_id)
    if screen_name is not ...:
        user.custom_screen_name = screen_name
    change_user(sandbox_of(request), user, allow_messages=allow, member=member, role=role)
    return JSONResponse(user.control_view())


async def delete_user(request: Request) -> JSONResponse:
    """VK never forgets a user: a deleted one stays, ``deactivated``, and sending to them is error 18."""
    user = _user(request)
    user.deactivated = "deleted"
    return JSONResponse(user.control_view())


async def _message_input(request: Request, sandbox: Sandbox, extra: frozenset[str]) -> dict[str, Any]:
    body = await read_json(request, allowed=SEND_FIELDS | extra)
    text = take(body, "text", str, "")
    if len(text) > MAX_TEXT:
        raise ControlError(f"text is at most {MAX_TEXT} characters")
    payload = take(body, "payload", (str, dict, list), None, nullable=True)
    if isinstance(payload, str):
        try:
            nesting.loads(payload)
        except ValueError:
            raise ControlError("payload must be JSON (a string holding JSON, or an object)") from None
    elif payload is not None:
        payload = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    attachments = []
    for item in take(body, "attachments", list, []):
        if isinstance(item, str):
            try:
                attachments += parse_attachments(item, sandbox.uploads.lookup)
            except VkError as error:
                raise ControlError(f"attachments: {error.message}") from None
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            attachments.append(item)
        else:
            raise ControlError("attachments are VK attachment objects or strings like 'photo1_2'")
    fwd = take(body, "fwd_messages", list, [])
    if not all(isinstance(m, dict) for m in fwd):
        raise ControlError("fwd_messages must be message objects")
    unsafe = unsafe_url(attachments, "attachments") or unsafe_url(fwd, "fwd_messages")
    if unsafe:
        raise ControlError(f"links must be http(s) URLs or paths of the sandbox; {unsafe} is neither")
    if not (text or attachments or fwd):
        raise ControlError("a message needs text, attachments or fwd_messages")
    return {"body": body, "text": text, "payload": payload, "attachments": attachments, "fwd_messages": fwd}


async def user_send(request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    user = _user(request)
    data = await _message_input(request, sandbox, frozenset())
    sent = write(
        sandbox,
        user,
        data["text"],
        payload=data["payload"],
        attachments=data["attachments"],
        fwd_messages=data["fwd_messages"],
    )
    return JSONResponse(
        {
            "message_id": sent.message.id,
            "conversation_message_id": sent.message.conversation_message_id,
            "event_id": sent.event_id,
        }
    )


def _press_target(body: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    label = take(body, "label", str, None)
    row = take(body, "row", int, None)
    col = take(body, "col", int, None)
    if label is None and (row is None or col is None):
        raise ControlError("give label, or row and col")
    return label, row, col


def _press(sandbox: Sandbox, user: User, message: Message | None, body: dict[str, Any]) -> JSONResponse:
    label, row, col = _press_target(body)
    if message is None or message.deleted_for_all:
        raise ControlError("no such message in this conversation", 404)
    try:
        return JSONResponse(press(sandbox, user, message, label=label, row=row, col=col))
    except ActionError as error:
        raise ControlError(str(error), error.status) from None


async def user_press(request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    user = _user(request)
    body = await read_json(request, allowed=PRESS_FIELDS)
    message = sandbox.mailbox.find(user.id, message_id=take(body, "message_id", int))
    return _press(sandbox, user, message, body)


async def user_messages(request: Request) -> JSONResponse:
    user = _user(request)
    since = query_int(request, "since") or 0
    history = sandbox_of(request).mailbox.conversation(user.id).messages
    return JSONResponse([m.control_view() for m in history if m.id > since and not m.deleted_for_all])


async def user_snackbars(request: Request) -> JSONResponse:
    user = _user(request)
    return JSONResponse(sandbox_of(request).mailbox.snackbars.get(user.id, []))


async def add_chat(request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    body = await read_json(request, allowed=frozenset({"title", "member_ids", "bot_is_admin"}))
    title = _name(body, "title", "Беседа")
    member_ids = take(body, "member_ids", list, [])
    if not all(type(i) is int and i in sandbox.directory.users for i in member_ids):
        raise ControlError("member_ids must be ids of existing users")
    members = [sandbox.directory.users[i] for i in dict.fromkeys(member_ids)]
    chat = create_chat(sandbox, title, members, take(body, "bot_is_admin", bool, False))
    return JSONResponse({"peer_id": chat.peer_id})


async def list_chats(request: Request) -> JSONResponse:
    return JSONResponse([c.control_view() for c in sandbox_of(request).directory.chats.values()])


async def patch_chat(request: Request) -> JSONResponse:
    chat = _chat(request)
    body = await read_json(request, allowed=frozenset({"title", "bot_is_admin"}))
    chat.title = _name(body, "title", chat.title)
    chat.bot_is_admin = take(body, "bot_is_admin", bool, chat.bot_is_admin)
    return JSONResponse(chat.control_view())


def _chat_member(sandbox: Sandbox, chat: Chat, body: dict[str, Any]) -> User:
    user = sandbox.directory.user(take(body, "from_id", int))
    if user is None or user.id not in chat.member_ids:
        raise ControlError("from_id must be a member of the chat")
    return user


async def chat_send(request: Request) -> JSONResponse:
    """The bot sees ``id: 0`` in chats and must use ``conversation_message_id`` (VK_PROTOCOL.md)."""
    sandbox = sandbox_of(request)
    chat = _chat(request)
    data = await _message_input(request, sandbox, frozenset({"from_id"}))
    user = _chat_member(sandbox, chat, data["body"])
    sent = write(
        sandbox,
        user,
        data["text"],
        peer_id=chat.peer_id,
        payload=data["payload"],
        attachments=data["attachments"],
        fwd_messages=data["fwd_messages"],
    )
    return JSONResponse(
        {"message_id": 0, "conversation_message_id": sent.message.conversation_message_id, "event_id": sent.event_id}
    )


async def chat_messages(request: Request) -> JSONResponse:
    chat = _chat(request)
    since = query_int(request, "since") or 0
    history = sandbox_of(request).mailbox.conversation(chat.peer_id).messages
    return JSONResponse(
        [
            {**m.control_view(), "from_id": m.from_id}
            for m in history
            if m.conversation_message_id > since and not m.deleted_for_all
        ]
    )


async def chat_press(request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    chat = _chat(request)
    body = await read_json(request, allowed=(PRESS_FIELDS - {"message_id"}) | {"from_id", "conversation_message_id"})
    user = _chat_member(sandbox, chat, body)
    message = sandbox.mailbox.find(chat.peer_id, cmid=take(body, "conversation_message_id", int))
    return _press(sandbox, user, message, body)


ROUTES = [
    Route("/sandbox/users", add_user, methods=["POST"]),
    Route("/sandbox/users", list_users, methods=["GET"]),
    Route("/sandbox/users/{user_id}", get_user, methods=["GET"]),
    Route("/sandbox/users/{user_id}", patch_user, methods=["PATCH"]),
    Route("/sandbox/users/{user_id}", delete_user, methods=["DELETE"]),
    Route("/sandbox/users/{user_id}/send", user_send, methods=["POST"]),
    Route("/sandbox/users/{user_id}/press", user_press, methods=["POST"]),
    Route("/sandbox/users/{user_id}/messages", user_messages, methods=["GET"]),
    Route("/sandbox/users/{user_id}/snackbars", user_snackbars, methods=["GET"]),
    Route("/sandbox/chats", add_chat, methods=["POST"]),
    Route("/sandbox/chats", list_chats, methods=["GET"]),
    Route("/sandbox/chats/{peer_id}", patch_chat, methods=["PATCH"]),
    Route("/sandbox/chats/{peer_id}/send", chat_send, methods=["POST"]),
    Route("/sandbox/chats/{peer_id}/messages", chat_messages, methods=["GET"]),
    Route("/sandbox/chats/{peer_id}/press", chat_press, methods=["POST"]),
]
