"""Documents for replies (a calendar file, an attendance register): uploaded, then sent like any reply.

A reply with a file waits in the outbox as UPLOADING with the file in its row. This worker uploads
it the VK way (docs.getMessagesUploadServer -> multipart POST -> docs.save), writes the attachment
into the row and makes it PENDING; the Sender does the rest, with the row's random_id. A crash before
that commit only means the file is uploaded once more: the message itself is still sent once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import requests
from sqlalchemy.orm import Session

from fsm_bot.storage import Database
from fsm_bot.storage.models import OutgoingStatus
from fsm_bot.storage.repositories import OutboxRepository
from fsm_bot.vk.client import VkClient
from fsm_bot.vk.errors import VkCallError

log = logging.getLogger(__name__)

MAX_UPLOAD_ATTEMPTS = 5
RETRY_SECONDS = 5.0
UPLOAD_TIMEOUT = 60


class UploadFailed(RuntimeError):
    pass


def upload_document(client: VkClient, peer_id: int, name: str, data: bytes) -> str:
    """The attachment string of `data` uploaded as a document for `peer_id` ("doc<owner>_<id>")."""
    server = client.call("docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer_id})
    try:
        response = requests.post(server["upload_url"], files={"file": (name, data)}, timeout=UPLOAD_TIMEOUT)
        response.raise_for_status()
        uploaded = response.json()
    except (requests.RequestException, ValueError) as error:
        raise UploadFailed(f"upload server: {error}") from None
    if "file" not in uploaded:
        raise UploadFailed(f"upload server refused the file: {uploaded.get('error', uploaded)}")
    saved = client.call("docs.save", {"file": uploaded["file"], "title": name})
    doc = saved.get("doc") if isinstance(saved, dict) else None
    if not doc:
        raise UploadFailed(f"docs.save answered {saved!r}")
    attachment = f"doc{doc['owner_id']}_{doc['id']}"
    if doc.get("access_key"):
        attachment += f"_{doc['access_key']}"
    return attachment


class DocumentUploader:
    """A thread that turns UPLOADING rows into PENDING ones; woken after each event, and on a timer."""

    def __init__(
        self,
        database: Database,
        community_id: int,
        client: VkClient,
        wake_sender: Callable[[], None],
        failed_text: Callable[[str], str],
    ) -> None:
        self.failed_text = failed_text  # the catalog's words for "the file could not be attached"
        self.database = database
        self.community_id = community_id
        self.client = client
        self.wake_sender = wake_sender
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures: dict[int, int] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="uploads", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.upload_waiting()
            except Exception:
                log.exception("document uploads failed; will try again")
                busy = 0
            if not busy:
                self._wake.wait(RETRY_SECONDS)
                self._wake.clear()

    def upload_waiting(self) -> int:
        """Upload what waits; returns how many rows were made ready (or given up)."""
        waiting = self.database.transaction(
            lambda session: [
                (row.id, row.peer_id, row.upload_name or "file", bytes(row.upload_data or b""))
                for row in OutboxRepository(session, self.community_id).waiting_uploads()
            ]
        )
        done = 0
        for row_id, peer_id, name, data in waiting:
            if self._stop.is_set():
                break
            try:
                attachment = upload_document(self.client, peer_id, name, data)
            except Exception as error:
                # Any failure counts against this row alone (VK's, the upload server's, or a bug on an
                # answer we could not read): the rows after it are uploaded meanwhile, and this one
                # goes out without its file after the last try instead of blocking them for ever.
                if not isinstance(error, (VkCallError, UploadFailed)):
                    log.exception("document %s for %d: unexpected failure", name, peer_id)
                failures = self._failures.get(row_id, 0) + 1
                self._failures[row_id] = failures
                log.warning("document %s for %d not uploaded (try %d): %s", name, peer_id, failures, error)
                if failures < MAX_UPLOAD_ATTEMPTS:
                    continue
                self._settle(row_id, None, str(error))
                done += 1
                continue
            self._settle(row_id, attachment, None)
            done += 1
        if done:
            self.wake_sender()
        return done

    def _settle(self, row_id: int, attachment: str | None, error: str | None) -> None:
        def write(session: Session) -> None:
            [row] = OutboxRepository(session, self.community_id).by_ids([row_id])
            if row.status != OutgoingStatus.UPLOADING.value:
                return
            row.upload_data = None
            if attachment is not None:
                row.attachment = attachment
                row.status = OutgoingStatus.PENDING.value
            else:  # the text still goes out, saying the file could not be attached
                notice = self.failed_text(row.upload_name or "")
                row.text = f"{row.text}\n\n{notice}" if row.text else notice
                row.status = OutgoingStatus.PENDING.value
                row.error = error

        self.database.transaction(write)
        self._failures.pop(row_id, None)
