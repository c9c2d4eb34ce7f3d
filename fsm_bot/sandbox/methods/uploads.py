"""``docs.*`` and ``photos.*`` for attachments in messages (the upload POST itself is in ``..uploads``)."""

from __future__ import annotations

from typing import Any

from ..errors import invalid_param
from .base import Call

DOC_UPLOAD_TYPES = frozenset({"doc", "audio_message", "graffiti"})


def docs_get_messages_upload_server(call: Call) -> dict[str, str]:
    kind = call.params.string("type", default="doc")
    if kind not in DOC_UPLOAD_TYPES:
        raise invalid_param("type is invalid")
    call.params.integer("peer_id")
    return {"upload_url": call.sandbox.uploads.slot(call.base_url, "doc", kind)}


def docs_save(call: Call) -> dict[str, Any]:
    params = call.params
    return call.sandbox.uploads.save_doc(
        call.base_url,
        params.string("file", required=True, max_len=200),
        params.string("title", max_len=200),
        params.string("tags", max_len=200),
    )


def photos_get_messages_upload_server(call: Call) -> dict[str, Any]:
    call.params.integer("peer_id")
    return {
        "album_id": -64,
        "upload_url": call.sandbox.uploads.slot(call.base_url, "photo"),
        "user_id": 0,
        "group_id": call.sandbox.community.group_id,
    }


def photos_save_messages_photo(call: Call) -> list[dict[str, Any]]:
    params = call.params
    return call.sandbox.uploads.save_photo(
        call.base_url,
        params.string("photo", required=True, max_len=10_000),
        params.integer("server"),
        params.string("hash", max_len=100),
    )


METHODS = {
    "docs.getMessagesUploadServer": docs_get_messages_upload_server,
    "docs.save": docs_save,
    "photos.getMessagesUploadServer": photos_get_messages_upload_server,
    "photos.saveMessagesPhoto": photos_save_messages_photo,
}
