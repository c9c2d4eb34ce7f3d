"""A timetable file a leader sends the bot as a document (issue 17, point 4): read, compared, applied.

The file is the same YAML or .ics `fsm-bot timetable import` takes, checked by the same parser (every
mistake named with its line, 1 MB at most, hostile files refused), but only the sender's own group is
taken from it. Between the preview and «Применить» the dialog keeps the group's week as our YAML (the
parser's own output, read back by the same parser), not the sender's file: it holds nothing unchecked.

The semester is the community's, shared by every group of a stream, so a file's semester replaces it only
when no other group's timetable depends on it (or it is the same); otherwise the stream's stays, and the
preview says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fsm_bot.timetable import (
    Change,
    Parity,
    Semester,
    Slot,
    TimetableFile,
    TimetableFileError,
    dump_timetable,
    load_timetable,
)
from fsm_bot.timetable.limits import MAX_FILE_BYTES, shorten
from fsm_bot.timetable.upload import is_ics, parse_timetable_file
from fsm_bot.vk.files import DownloadFailed, SentDocument, documents_of, download

__all__ = [
    "UPLOAD_EXTENSIONS",
    "TimetableFileError",
    "TimetableUpload",
    "UploadPreview",
    "UploadRefused",
    "WeekDifference",
    "difference",
    "parse_upload",
    "read_upload",
    "semester_after",
]

UPLOAD_EXTENSIONS = ("yaml", "yml", "ics")
KEPT_NAME = "timetable.yaml"  # the name the kept week is read back under (errors there would be our bug)
CHANGES_AHEAD = timedelta(days=400)  # longer than a semester: every change of the old lessons still ahead


class UploadRefused(ValueError):
    """The message brings no timetable file to read; `key` names the catalog text (timetable_upload.<key>)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass(frozen=True)
class TimetableUpload:
    """One group's week read from a file, and what else the file held."""

    title: str  # the document's name, shortened, as people see it
    group: str
    slots: tuple[Slot, ...]
    semester: Semester | None
    other_groups: tuple[str, ...] = ()  # groups of a YAML file besides the sender's: left alone

    def kept(self) -> str:
        """The week as the dialog keeps it until «Применить»: our YAML, which `from_kept` reads back."""
        return dump_timetable(TimetableFile(self.semester, {self.group: list(self.slots)}))

    @classmethod
    def from_kept(cls, text: str, title: str, group: str) -> TimetableUpload:
        timetable = load_timetable(text, KEPT_NAME)
        return cls(title, group, tuple(timetable.groups.get(group, ())), timetable.semester)


@dataclass(frozen=True)
class WeekDifference:
    """Weekly lessons of the new week against the stored one (equal lessons: same day, time, subject, ...)."""

    before: int
    after: int
    added: tuple[Slot, ...]  # in the new week and not in the old, by day and time
    removed: tuple[Slot, ...]

    @property
    def kept(self) -> int:
        return self.after - len(self.added)

    @property
    def same(self) -> bool:
        return not self.added and not self.removed


@dataclass(frozen=True)
class UploadPreview:
    upload: TimetableUpload
    difference: WeekDifference
    semester: Semester | None  # the semester in force after «Применить»
    semester_replaced: bool  # the file's semester becomes the community's
    semester_kept_over_file: bool  # the file has another semester, and the stream's stays
    dropped_changes: int  # one-off changes (cancellations, moves) of the old lessons from today on
    this_week: Parity  # the parity of today's week under that semester


def read_upload(attachments: tuple[dict[str, Any], ...], group: str, timezone: ZoneInfo) -> TimetableUpload:
    """The group's week from the message's document; UploadRefused or TimetableFileError (lines named) if not."""
    documents = documents_of(attachments)
    if not documents:
        raise UploadRefused("no_file")
    document = documents[0]
    title = shorten(document.title or f"file.{document.ext}")
    if document.ext not in UPLOAD_EXTENSIONS:
        raise UploadRefused("wrong_type", title=title)
    try:
        content = download(document, MAX_FILE_BYTES)
    except DownloadFailed as error:
        if "larger than" in str(error):
            raise UploadRefused("too_big", title=title, mb=MAX_FILE_BYTES // 2**20) from None
        raise UploadRefused("download_failed", title=title, error=str(error)) from None
    return parse_upload(content, _file_name(document, title), group, timezone)


def parse_upload(content: bytes, name: str, group: str, timezone: ZoneInfo) -> TimetableUpload:
    """`group`'s week from a file's bytes: an .ics is the group's as a whole, a YAML file must name the group."""
    if is_ics(name):
        parsed = parse_timetable_file(content, name, group, timezone)
        return TimetableUpload(name, group, tuple(parsed.groups[group]), parsed.semester)
    parsed = parse_timetable_file(content, name, None, timezone)
    if group not in parsed.groups:
        listed = shorten(", ".join(parsed.groups), 200) or "none"
        raise TimetableFileError([f"{name}: no group {group!r} in the file (it has: {listed})"])
    others = tuple(name for name in parsed.groups if name != group)
    return TimetableUpload(name, group, tuple(parsed.groups[group]), parsed.semester, others)


def _file_name(document: SentDocument, title: str) -> str:
    """The name errors quote and the format is told by: the title, with the document's extension."""
    return title if title.lower().endswith(f".{document.ext}") else f"{title}.{document.ext}"


def difference(before: Sequence[Slot], after: Sequence[Slot]) -> WeekDifference:
    old, new = Counter(before), Counter(after)
    return WeekDifference(len(before), len(after), _in_order(new - old), _in_order(old - new))


def _in_order(slots: Counter[Slot]) -> tuple[Slot, ...]:
    return tuple(sorted(slots.elements(), key=lambda slot: (slot.day, slot.start, slot.subject)))


def has_document(attachments: tuple[dict[str, Any], ...]) -> bool:
    return bool(documents_of(attachments))


def semester_after(
    upload: Semester | None, stored: Semester | None, only_group_with_lessons: bool
) -> tuple[Semester | None, bool, bool]:
    """(the semester in force, whether the file's replaces the stored one, whether the stored one is kept over
    the file's). Another group's parity must not change under it because one headman uploaded a file."""
    if upload is None or upload == stored:
        return stored, False, False
    if stored is None or only_group_with_lessons:
        return upload, True, False
    return stored, False, True


def future_changes(changes: Sequence[Change], today: date) -> int:
    """One-off changes of weekly lessons from today on: replacing the week drops them with the old lessons."""
    return sum(1 for change in changes if change.slot_id is not None and change.date >= today)
