"""The control API's routes for the web playground (extensions, see README.md): one poll and user files.

The page polls ``GET /sandbox/playground/poll`` about once a second. To keep that cheap it sends what it
already has: the journal's last ``seq`` and digests of the people list and of the open chat; the answer
carries only new journal entries, the stats, and the sections whose digest changed.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .api import base_url
from .control_input import ControlError, path_int, query_int, read_json, sandbox_of, take
from .demo import DEMO_STREAM
from .model import Message, User
from .state import Sandbox

DEMO_PEOPLE = {person.id: person for person in DEMO_STREAM}
FILE_KINDS = frozenset({"photo", "doc"})
MAX_NAME = 100
DEFAULT_NAMES = {"photo": "photo.png", "doc": "конспект.txt"}


def person_view(sandbox: Sandbox, user: User) -> dict[str, Any]:
    """A user with the part the demo stream meant them to play (None for anyone else) and their last message.

    The study group and the headman/deputy roles are the bot's business, not VK's: this is only what
    ``DEMO_STREAM`` says, so the page can group the demo's people. A user who is not that demo person
    (another name under the same id) plays no demo part.
    """
    demo = DEMO_PEOPLE.get(user.id)
    if demo is not None and (demo.first_name, demo.last_name) != (user.first_name, user.last_name):
        demo = None
    conversation = sandbox.mailbox.conversations.get(user.id)
    last_bot = next((m.id for m in reversed(conversation.messages) if m.from_bot), 0) if conversation else 0
    return {
        **user.control_view(),
        "sex": user.sex,
        "deactivated": user.deactivated,
        "stream_role": demo.stream_role if demo else None,
        "study_group": demo.study_group if demo else None,
        "last_bot_message_id": last_bot,
    }


def message_view(message: Message) -> dict[str, Any]:
    """More than ``/users/{id}/messages`` shows: forwards, replies and edits, which the chat draws."""
    return {
        **message.control_view(),
        "fwd_messages": message.fwd_messages,
        "reply_message": message.reply_message,
        "update_time": message.update_time,
    }


def chat_view(sandbox: Sandbox, user: User) -> dict[str, Any]:
    history = sandbox.mailbox.conversation(user.id).messages
    return {
        "user": person_view(sandbox, user),
        "messages": [message_view(m) for m in history if not m.deleted_for_all],
        "snackbars": sandbox.mailbox.snackbars.get(user.id, []),
    }


def digest(value: Any) -> str:
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(data.encode()).hexdigest()[:16]


def stats_view(sandbox: Sandbox) -> dict[str, Any]:
    """``/sandbox/stats`` plus what the side panel also shows: API errors by kind, the bot's long polls."""
    callback = sandbox.callbacks.first()
    return {
        **sandbox.stats.as_json(),
        **sandbox.journal.counts(),
        "held_polls": sandbox.longpoll.held,
        "callback_ok": callback is not None and callback.status == "ok",
        "pending_faults": len(sandbox.faults),
    }


async def poll(request: Request) -> JSONResponse:
    """``?since=<seq>&user=<id>&people=<digest>&chat=<digest>``: what changed since the page last asked."""
    sandbox = sandbox_of(request)
    since = query_int(request, "since") or 0
    answer: dict[str, Any] = {
        "seq": sandbox.journal.seq,
        "journal": sandbox.journal.since(since),
        "stats": stats_view(sandbox),
    }
    users = sorted(sandbox.directory.users.values(), key=lambda u: u.id)
    people = [person_view(sandbox, u) for u in users]
    answer["people_digest"] = digest(people)
    if answer["people_digest"] != request.query_params.get("people"):
        answer["people"] = people
    user_id = query_int(request, "user")
    user = sandbox.directory.user(user_id) if user_id else None
    chat = chat_view(sandbox, user) if user else None
    answer["chat_digest"] = digest(chat)
    if answer["chat_digest"] != request.query_params.get("chat"):
        answer["chat"] = chat
    return JSONResponse(answer)


async def add_file(request: Request) -> JSONResponse:
    """``{"type": "photo" | "doc", "name"}``: a small generated file of the user's, as an attachment object.

    The page sends that object on with ``POST /sandbox/users/{id}/send``, as a VK client sends what it
    uploaded; the file itself is served at the object's ``url``.
    """
    sandbox = sandbox_of(request)
    user = sandbox.directory.user(path_int(request, "user_id"))
    if user is None:
        raise ControlError("no such user", 404)
    body = await read_json(request, allowed=frozenset({"type", "name"}))
    kind = take(body, "type", str)
    if kind not in FILE_KINDS:
        raise ControlError("type must be photo or doc")
    name = take(body, "name", str, DEFAULT_NAMES[kind])
    if not name.strip() or len(name) > MAX_NAME:
        raise ControlError(f"name must be 1 to {MAX_NAME} characters")
    data = sample_png() if kind == "photo" else sample_text(user).encode("utf-8")
    return JSONResponse(sandbox.uploads.add_user_file(base_url(sandbox, request), user.id, kind, name, data))


def sample_text(user: User) -> str:
    return f"Документ из песочницы fsm_bot.\nОтправил: {user.first_name} {user.last_name} (id {user.id}).\n"


def sample_png(width: int = 96, height: int = 64, rgb: tuple[int, int, int] = (0x44, 0x7B, 0xBA)) -> bytes:
    """A real (if plain) PNG, so a photo's ``url`` opens as a picture: one colour, VK's blue."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


ROUTES = [
    Route("/sandbox/playground/poll", poll, methods=["GET"]),
    Route("/sandbox/playground/users/{user_id}/files", add_file, methods=["POST"]),
]
