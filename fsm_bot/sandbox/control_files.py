"""``POST /sandbox/users/{id}/files``: a file a user attaches to a message (SANDBOX_API.md).

A VK user uploads through their own client, not the community's upload protocol, so this route stands in
for that: it stores the bytes and answers the attachment object VK would put in the user's message. Its
``url`` serves the bytes, so a bot can download what the user sent, as it would from VK's ``doc.url``.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .api import base_url
from .control_input import ControlError, path_int, read_json, sandbox_of, take

#: SANDBOX_API.md: "at most 5 MB". (VK's own limit for documents is 200 MB; the sandbox keeps files in memory.)
MAX_USER_FILE_BYTES = 5 * 1024 * 1024
#: The JSON body around a file at the limit: base64 is 4 bytes per 3, plus the name and the field names.
MAX_BODY_BYTES = (MAX_USER_FILE_BYTES + 2) // 3 * 4 + 64 * 1024
FILE_KINDS = frozenset({"doc", "photo"})
MAX_NAME = 255  # VK's doc title limit is not documented; long enough for any real file name


def _too_big() -> ControlError:
    return ControlError(f"the file is larger than {MAX_USER_FILE_BYTES} bytes", 413)


async def add_user_file(request: Request) -> JSONResponse:
    """``{"type": "doc" | "photo", "name", "content_base64"}``: the attachment object to pass to ``/send``."""
    sandbox = sandbox_of(request)
    user = sandbox.directory.user(path_int(request, "user_id"))
    if user is None:
        raise ControlError("no such user", 404)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_big()  # refused before the body is read into memory
    body = await read_json(request, allowed=frozenset({"type", "name", "content_base64"}))
    kind = take(body, "type", str)
    if kind not in FILE_KINDS:
        raise ControlError("type must be doc or photo")
    name = take(body, "name", str)
    if not name.strip() or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise ControlError(f"name must be 1 to {MAX_NAME} printable characters")
    encoded = take(body, "content_base64", str)
    if len(encoded) > MAX_BODY_BYTES:
        raise _too_big()
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ControlError("content_base64 is not valid base64") from None
    if len(data) > MAX_USER_FILE_BYTES:
        raise _too_big()
    if not data:
        raise ControlError("the file is empty (VK refuses empty files)")
    return JSONResponse(sandbox.uploads.add_user_file(base_url(sandbox, request), user.id, kind, name, data))


ROUTES = [Route("/sandbox/users/{user_id}/files", add_user_file, methods=["POST"])]
