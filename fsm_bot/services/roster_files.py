"""A group list as a headman has it: an .xlsx from the dean's office, a .csv, or lines of text.

One person a line (a row): «Фамилия Имя [Отчество]», optionally with a VK link (vk.com/id123 or a short
address, vk.com/olga_b, which only VK can turn into an id) or a bare id anywhere in it. Numbering («1.»,
«1)») and a header row are skipped. What cannot be read as a name is reported with its line number, and the
rest is still used: one odd line must not lose the list.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass

MAX_ROSTER_BYTES = 1024 * 1024  # a group list is a few kilobytes
MAX_PEOPLE = 300  # no study group is larger; a longer list is a mistake (a whole faculty)
NAME_LENGTH = 64

_NUMBERING = re.compile(r"^\s*\d{1,3}(?:\s*[.)]\s*|\s+)")  # «1.», «1)», or a № column
_VK_LINK = re.compile(r"(?:https?://)?(?:m\.)?vk\.(?:com|ru)/id(\d{1,12})\b", re.IGNORECASE)
_SCREEN_LINK = re.compile(r"(?:https?://)?(?:m\.)?vk\.(?:com|ru)/([A-Za-z0-9_.]{2,32})(?![\w.])/?", re.IGNORECASE)
_ID = re.compile(r"(?<![\w-])(?:id)?(\d{3,12})(?![\w-])", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")
_HEADER = ("фамилия", "фио", "ф.и.о", "name", "surname")


@dataclass(frozen=True)
class RosterLine:
    """One person of the list: the name the register shows, and their VK id when the list gives it."""

    last_name: str
    first_name: str
    vk_id: int | None = None
    screen_name: str | None = None  # vk.com/<this>: the id is VK's to tell (services/roster.py asks)

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()


@dataclass(frozen=True)
class RosterProblem:
    """A line that is not «Фамилия Имя»: its number (from 1) and its start, for the headman to fix."""

    line: int
    text: str


@dataclass(frozen=True)
class RosterFile:
    people: tuple[RosterLine, ...]
    problems: tuple[RosterProblem, ...]


class RosterUnreadable(ValueError):
    """The file as a whole cannot be read; `key` names the catalog text (roster.<key>) with `values`."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def read_roster(content: bytes, filename: str = "list.txt") -> RosterFile:
    """The people of a list file; the format from the extension, text when there is none."""
    if len(content) > MAX_ROSTER_BYTES:
        raise RosterUnreadable("too_big", kb=MAX_ROSTER_BYTES // 1024)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext == "xlsx":
        rows = _xlsx_rows(content)
    elif ext == "csv":
        rows = _csv_rows(_text(content))
    else:
        rows = _text(content).splitlines()
    return parse_lines(rows)


def parse_lines(rows: list[str]) -> RosterFile:
    people: list[RosterLine] = []
    problems: list[RosterProblem] = []
    for number, row in enumerate(rows, start=1):
        line = " ".join(row.split())
        if not line or (not people and not problems and any(word in line.casefold() for word in _HEADER)):
            continue
        parsed = parse_line(line)
        if parsed is None:
            problems.append(RosterProblem(number, line[:60]))
            continue
        people.append(parsed)
        if len(people) > MAX_PEOPLE:
            raise RosterUnreadable("too_many", limit=MAX_PEOPLE)
    return RosterFile(tuple(people), tuple(problems))


def parse_line(line: str) -> RosterLine | None:
    """«2. Иванов Иван Иванович vk.com/id123» -> Иванов, Иван, 123; «… https://vk.com/ivanov_i» -> its address."""
    line = _NUMBERING.sub("", line)
    vk_id = None
    screen_name = None
    if (link := _VK_LINK.search(line)) is not None:
        vk_id, line = int(link.group(1)), line[: link.start()] + " " + line[link.end() :]
    elif (short := _SCREEN_LINK.search(line)) is not None:
        screen_name, line = short.group(1).lower(), line[: short.start()] + " " + line[short.end() :]
    elif (bare := _ID.search(line)) is not None:
        vk_id, line = int(bare.group(1)), line[: bare.start()] + " " + line[bare.end() :]
    words = [word.strip(",;") for word in line.replace(";", " ").replace(",", " ").split()]
    words = [word for word in words if word and not word.startswith(("http", "vk.", "@"))]
    if len(words) < 2 or not all(_NAME_WORD.match(word) for word in words[:2]):
        return None
    last, first = (word[:1].upper() + word[1:] for word in words[:2])
    return RosterLine(last[:NAME_LENGTH], first[:NAME_LENGTH], vk_id if vk_id else None, screen_name)


def _text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):  # Excel on Russian Windows saves .csv in cp1251
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterUnreadable("encoding")


def _csv_rows(text: str) -> list[str]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [" ".join(cell.strip() for cell in row if cell.strip()) for row in csv.reader(io.StringIO(text), dialect)]


def _xlsx_rows(content: bytes) -> list[str]:
    from openpyxl import load_workbook  # only when someone sends a workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise RosterUnreadable("not_xlsx", error=type(error).__name__) from None
    try:
        sheet = book.worksheets[0]
        return [
            " ".join(str(cell).strip() for cell in row if cell is not None and str(cell).strip())
            for row in sheet.iter_rows(values_only=True, max_row=MAX_PEOPLE * 2)
        ]
    finally:
        book.close()
