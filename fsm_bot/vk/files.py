"""Files people send the community: a document attached to a message is downloaded from its `url`.

VK gives each document in a message a `url` the community may fetch (VK_PROTOCOL.md); the sandbox
serves its user files the same way. The size is capped while reading, not after: a 200 MB document
(VK's limit) must not sit in a worker's memory because someone sent it by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

DOWNLOAD_TIMEOUT = 20.0  # seconds; a person waits for the answer
CHUNK = 64 * 1024


@dataclass(frozen=True)
class SentDocument:
    """A document attached to a message: its name, its extension and where to fetch it."""

    title: str
    ext: str
    url: str


class DownloadFailed(Exception):
    """The document could not be fetched, or it is larger than allowed."""


def documents_of(attachments: tuple[dict[str, Any], ...]) -> list[SentDocument]:
    found = []
    for item in attachments:
        body = item.get("doc") if item.get("type") == "doc" else None
        if isinstance(body, dict) and isinstance(body.get("url"), str):
            title = str(body.get("title", ""))
            ext = str(body.get("ext") or (title.rsplit(".", 1)[-1] if "." in title else ""))
            found.append(SentDocument(title, ext.lower(), body["url"]))
    return found


def download(document: SentDocument, max_bytes: int) -> bytes:
    if not document.url.startswith(("https://", "http://")):
        raise DownloadFailed("not a web address")
    try:
        with requests.get(document.url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status_code != 200:
                raise DownloadFailed(f"HTTP {response.status_code}")
            content = bytearray()
            for chunk in response.iter_content(CHUNK):
                content += chunk
                if len(content) > max_bytes:
                    raise DownloadFailed(f"larger than {max_bytes} bytes")
            return bytes(content)
    except requests.RequestException as error:
        raise DownloadFailed(type(error).__name__) from None
