"""File uploads the VK way: an upload URL, a multipart POST to it, then ``docs.save`` / ``photos.saveMessagesPhoto``.

``vk_api.VkUpload`` posts with its own ``requests.Session`` to whatever ``upload_url`` the API returned,
so the upload URL points straight at this server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import VkError, invalid_param

MAX_FILE_BYTES = 50 * 1024 * 1024  # VK's limit for documents is 200 MB; the sandbox keeps files in memory
PHOTO_ALBUM_ID = -64  # VK's album for photos sent in messages
PHOTO_SERVER = 838

_DOC_KINDS = {  # VK's doc "type": 1 text, 2 archive, 3 gif, 4 image, 5 audio, 6 video, 7 e-book; 8 is the rest
    1: "txt doc docx pdf odt rtf xls xlsx csv",
    2: "zip rar 7z gz",
    3: "gif",
    4: "jpg jpeg png webp",
    5: "mp3 ogg wav",
    6: "mp4 avi",
    7: "djvu epub fb2",
}
DOC_TYPES = {ext: kind for kind, exts in _DOC_KINDS.items() for ext in exts.split()}


@dataclass
class UploadedFile:
    name: str
    data: bytes
    kind: str  # "doc" or "photo"
    doc_type: str = "doc"


class Uploads:
    """Upload slots, received files and saved documents and photos of the community."""

    def __init__(self, group_id: int) -> None:
        self.group_id = group_id
        self._slots: dict[str, tuple[str, str]] = {}  # upload key -> (kind, doc type)
        self._received: dict[str, UploadedFile] = {}  # file token -> file, until saved
        self._secret = secrets.token_bytes(16)
        self.docs: dict[int, dict[str, Any]] = {}
        self.photos: dict[int, dict[str, Any]] = {}
        self.files: dict[str, UploadedFile] = {}  # saved files, served at /upload/files/<token>

    def slot(self, base_url: str, kind: str, doc_type: str = "doc") -> str:
        """A fresh upload URL for one file (``kind`` is "doc" or "photo")."""
        key = secrets.token_hex(12)
        self._slots[key] = (kind, doc_type)
        return f"{base_url}/upload/{kind}/{key}"

    def receive(self, kind: str, key: str, upload: UploadedFile) -> dict[str, Any]:
        """What VK's upload server answers to the multipart POST."""
        slot = self._slots.get(key)
        if slot is None or slot[0] != kind:
            return {"error": "invalid upload key"}
        upload.doc_type = slot[1]
        token = secrets.token_hex(16)
        self._received[token] = upload
        if kind == "doc":
            return {"file": token}
        photo = json.dumps([{"photo": token, "sizes": []}], separators=(",", ":"))
        return {"server": PHOTO_SERVER, "photo": photo, "hash": self._sign(photo)}

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.md5).hexdigest()

    def save_doc(self, base_url: str, file_token: str, title: str, tags: str) -> dict[str, Any]:
        upload = self._received.pop(file_token, None)
        if upload is None or upload.kind != "doc":
            raise invalid_param("file is invalid")
        doc_id = len(self.docs) + 1
        ext = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        self.files[file_token] = upload
        doc = {
            "id": doc_id,
            "owner_id": -self.group_id,
            "title": title or upload.name,
            "size": len(upload.data),
            "ext": ext,
            "date": int(time.time()),
            "type": DOC_TYPES.get(ext, 8),
            "url": f"{base_url}/upload/files/{file_token}",
            "access_key": secrets.token_hex(9),
        }
        if tags:
            doc["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
        self.docs[doc_id] = doc
        return {"type": upload.doc_type, upload.doc_type: doc}

    def save_photo(self, base_url: str, photo: str, server: int | None, hash_: str) -> list[dict[str, Any]]:
        if server != PHOTO_SERVER or not hmac.compare_digest(self._sign(photo), hash_):
            raise VkError(121)
        try:
            tokens = [item["photo"] for item in json.loads(photo)]
        except (ValueError, TypeError, KeyError):
            raise invalid_param("photo is invalid") from None
        saved = []
        for token in tokens:
            upload = self._received.pop(token, None)
            if upload is None:
                raise invalid_param("photo is invalid")
            self.files[token] = upload
            photo_id = len(self.photos) + 1
            url = f"{base_url}/upload/files/{token}"
            obj = {
                "id": photo_id,
                "album_id": PHOTO_ALBUM_ID,
                "owner_id": -self.group_id,
                "date": int(time.time()),
                "text": "",
                "has_tags": False,
                "access_key": secrets.token_hex(9),
                "sizes": [{"type": "x", "url": url, "width": 0, "height": 0}],
            }
            self.photos[photo_id] = obj
            saved.append(obj)
        return saved

    def add_user_file(self, base_url: str, owner_id: int, kind: str, name: str, data: bytes) -> dict[str, Any]:
        """A photo or document a user attaches to a message (the playground's «📷 Фото» / «📎 Документ»).

        A user's upload is not the community's upload protocol, so no slot: the file is stored and the
        attachment object returned, owned by the user; ``lookup`` finds it when the bot sends it on.
        """
        token = secrets.token_hex(16)
        self.files[token] = UploadedFile(name=name, data=data, kind=kind)
        url = f"{base_url}/upload/files/{token}"
        stamp = {"owner_id": owner_id, "date": int(time.time()), "access_key": secrets.token_hex(9)}
        if kind == "photo":
            photo_id = len(self.photos) + 1
            photo = {"id": photo_id, "album_id": PHOTO_ALBUM_ID, **stamp, "text": "", "has_tags": False}
            photo["sizes"] = [{"type": "x", "url": url, "width": 0, "height": 0}]
            self.photos[photo_id] = photo
            return {"type": "photo", "photo": photo}
        doc_id = len(self.docs) + 1
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        doc = {"id": doc_id, "title": name, "size": len(data), "ext": ext, "type": DOC_TYPES.get(ext, 8), "url": url}
        doc.update(stamp)
        self.docs[doc_id] = doc
        return {"type": "doc", "doc": doc}

    def lookup(self, kind: str, owner_id: int, item_id: int) -> dict[str, Any] | None:
        """A saved doc or photo named by an ``attachment`` item, for the message's attachment object."""
        table = {"doc": self.docs, "photo": self.photos}.get(kind)
        found = table.get(item_id) if table is not None else None
        return found if found is not None and found["owner_id"] == owner_id else None


async def upload_endpoint(request: Request) -> Response:
    """``POST /upload/{kind}/{key}``: any multipart file field is taken (VK uses ``file``, ``photo``, ``file0``...)."""
    uploads: Uploads = request.app.state.sandbox.uploads
    kind = request.path_params["kind"]
    try:
        form = await request.form(max_files=10, max_fields=100)
    except Exception:  # malformed multipart: VK's upload server answers an error object, not a 500
        return JSONResponse({"error": "invalid multipart body"})
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        return JSONResponse({"error": "no file"})
    data = await files[0].read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES or not data:
        return JSONResponse({"error": "file is empty or too big"})
    upload = UploadedFile(name=files[0].filename or "file", data=data, kind=kind)
    return JSONResponse(uploads.receive(kind, request.path_params["key"], upload))


async def file_endpoint(request: Request) -> Response:
    """``GET /upload/files/{token}``: the saved file's bytes (the ``url`` of a doc or photo)."""
    upload = request.app.state.sandbox.uploads.files.get(request.path_params["token"])
    if upload is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return Response(upload.data, media_type="application/octet-stream")
