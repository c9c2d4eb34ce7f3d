"""The timetable file a headman writes or downloads, edits and uploads back:

    semester: {start: 2026-09-01, end: 2026-12-30, first_week: odd}
    holidays: [2026-11-04, 2026-12-29..2026-12-31]
    groups:
      ИВТ-101:
        - {day: mon, start: "09:00", end: "10:30", subject: Математический анализ, kind: лекция,
           teacher: Иванов И. И., room: "301", weeks: all}

The file is read from the YAML node tree, not from `yaml.safe_load`'s values, for two reasons: every error
can name its line, and YAML 1.1 quirks cannot corrupt values: an unquoted 9:00 is the integer 540 to
YAML 1.1 and an unquoted room 0301 an octal number, but the node keeps the text as written.
A file is taken whole or not at all, and every problem in it is reported at once.

Files come from people, so every size is bounded (limits.py): the file, its nesting and anchors (yaml_nodes.py),
the length of each text (the database's columns), the semester, the holidays and the lessons per group.
"""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import yaml

from fsm_bot.folding import fold
from fsm_bot.timetable.errors import TimetableFileError
from fsm_bot.timetable.limits import (
    LONGEST_SEMESTER_DAYS,
    MAX_FILE_BYTES,
    MAX_GROUP_NAME,
    MAX_HOLIDAYS,
    MAX_KIND,
    MAX_ROOM,
    MAX_SLOTS_PER_GROUP,
    MAX_SUBJECT,
    MAX_TEACHER,
    check_size,
    shorten,
)
from fsm_bot.timetable.model import Parity, Semester, Slot, TimetableFile
from fsm_bot.timetable.yaml_nodes import compose

_NULL_TAG = "tag:yaml.org,2002:null"
_TOP_KEYS = ("semester", "holidays", "groups")
_SEMESTER_KEYS = ("start", "end", "first_week")
_SLOT_KEYS = ("day", "start", "end", "subject", "kind", "teacher", "room", "weeks", "subgroup")
_REQUIRED_SLOT_KEYS = ("day", "start", "end", "subject")
_LONGEST_HOLIDAY_RANGE = timedelta(days=366)
_LONGEST_SEMESTER = timedelta(days=LONGEST_SEMESTER_DAYS)
_TEXT_LIMITS = {"kind": MAX_KIND, "teacher": MAX_TEACHER, "room": MAX_ROOM}  # and subject: MAX_SUBJECT
_NO_WRAP = 1_000_000  # one lesson per line, however long: a line is what a person edits, moves or deletes

_DAY_NAMES = {
    0: ("mon", "monday", "пн", "пон", "понедельник"),
    1: ("tue", "tuesday", "вт", "вто", "вторник"),
    2: ("wed", "wednesday", "ср", "сре", "среда"),
    3: ("thu", "thursday", "чт", "чет", "четверг"),
    4: ("fri", "friday", "пт", "пят", "пятница"),
    5: ("sat", "saturday", "сб", "суб", "суббота"),
    6: ("sun", "sunday", "вс", "вос", "воскресенье"),
}
_DAYS = {name: number for number, names in _DAY_NAMES.items() for name in names}
_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# ё is folded into е before the lookup, so нечётная and нечетная are one entry
_WEEKS = {
    "all": Parity.ALL,
    "все": Parity.ALL,
    "каждая": Parity.ALL,
    "odd": Parity.ODD,
    "нечет": Parity.ODD,
    "нечетная": Parity.ODD,
    "нечетные": Parity.ODD,
    "even": Parity.EVEN,
    "чет": Parity.EVEN,
    "четная": Parity.EVEN,
    "четные": Parity.EVEN,
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load_timetable(text: str, source: str = "<timetable>") -> TimetableFile:
    """Parse a timetable file; raises TimetableFileError listing every problem with its line and field."""
    check_size(len(text), source)  # characters first: a 50 MB string is refused without encoding it
    if len(text) * 4 > MAX_FILE_BYTES:  # only then can its UTF-8 be over the limit
        check_size(len(text.encode("utf-8")), source)
    root = compose(text, source)
    reader = _Reader(source)
    timetable = reader.timetable(root)
    if reader.errors or timetable is None:
        raise TimetableFileError(reader.errors)
    return timetable


class _Reader:
    """Walks the node tree once, turning nodes into values and collecting every error on the way."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def error(self, node: yaml.Node, path: str, message: str) -> None:
        where = f"{self.source}, line {node.start_mark.line + 1}"
        self.errors.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")

    # -- structure

    def timetable(self, root: yaml.Node | None) -> TimetableFile | None:
        if root is None:
            self.errors.append(f'{self.source}, line 1: the file is empty; expected "groups:" with the lessons')
            return None
        fields = self.mapping(root, "", _TOP_KEYS, "a mapping with semester, holidays and groups")
        if fields is None:
            return None
        semester = self.semester(fields["semester"]) if "semester" in fields else None
        holidays = self.holidays(fields["holidays"]) if "holidays" in fields else frozenset()
        if "holidays" in fields and "semester" not in fields:
            self.error(fields["holidays"], "holidays", 'need a "semester" (start and end) to belong to')
        if "groups" in fields:
            groups = self.groups(fields["groups"])
        else:
            self.error(root, "", 'missing "groups" (study group name -> list of lessons)')
            groups = {}
        if semester is not None and holidays:
            semester = Semester(semester.start, semester.end, semester.first_week, holidays)
        return TimetableFile(semester=semester, groups=groups)

    def mapping(
        self, node: yaml.Node, path: str, allowed: tuple[str, ...] | None, expected: str
    ) -> dict[str, yaml.Node] | None:
        """Keys (as written) to value nodes; unknown and repeated keys are errors, not silently dropped."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, f"expected {expected}, got {_describe(node)}")
            return None
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key_path = path or "(top level)"
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, key_path, f"a key must be a name, got {_describe(key_node)}")
                continue
            key = key_node.value.strip()
            field_path = _join_path(path, key)
            if allowed is not None and key not in allowed:
                self.error(key_node, field_path, f"unknown field (expected one of: {', '.join(allowed)})")
            elif key in fields:
                self.error(key_node, field_path, "appears twice")
            elif not key:
                self.error(key_node, key_path, "an empty name")
            else:
                fields[key] = value_node
        return fields

    def semester(self, node: yaml.Node) -> Semester | None:
        fields = self.mapping(node, "semester", _SEMESTER_KEYS, "{start: YYYY-MM-DD, end: YYYY-MM-DD}")
        if fields is None:
            return None
        for required in ("start", "end"):
            if required not in fields:
                self.error(node, "semester", f'missing "{required}"')
        start = self.date(fields["start"], "semester.start") if "start" in fields else None
        end = self.date(fields["end"], "semester.end") if "end" in fields else None
        first_week: Parity | None = Parity.ODD
        if "first_week" in fields:
            first_week = self.parity(fields["first_week"], "semester.first_week", allow_all=False)
        if start is not None and end is not None and end < start:
            self.error(fields["end"], "semester.end", f"{end.isoformat()} is before the start {start.isoformat()}")
            return None
        if start is not None and end is not None and end - start > _LONGEST_SEMESTER:
            self.error(fields["end"], "semester.end", f"the semester is longer than {LONGEST_SEMESTER_DAYS} days")
            return None
        if start is None or end is None or first_week is None:
            return None
        return Semester(start=start, end=end, first_week=first_week)

    def holidays(self, node: yaml.Node) -> frozenset[date]:
        if _is_null(node):
            return frozenset()
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "holidays", f"expected a list of dates, got {_describe(node)}")
            return frozenset()
        days: set[date] = set()
        for index, item in enumerate(node.value):
            days.update(self.holiday(item, f"holidays[{index}]"))
            if len(days) > MAX_HOLIDAYS:  # ranges of other years could otherwise pile up millions of days
                self.error(item, f"holidays[{index}]", f"more than {MAX_HOLIDAYS} days of holidays")
                return frozenset()
        return frozenset(days)

    def holiday(self, node: yaml.Node, path: str) -> list[date]:
        """One date, or an inclusive range written "2026-12-29..2026-12-31"."""
        text = self.scalar(node, path, "a date or a range like 2026-12-29..2026-12-31")
        if text is None:
            return []
        if ".." not in text:
            day = self.date(node, path)
            return [] if day is None else [day]
        first_text, _, last_text = text.partition("..")
        first, last = _parse_date(first_text.strip()), _parse_date(last_text.strip())
        if first is None or last is None:
            self.error(node, path, f"{_quote(text)} is not a date range (YYYY-MM-DD..YYYY-MM-DD)")
            return []
        if last < first:
            self.error(node, path, f"{_quote(text)} ends before it starts")
            return []
        if last - first > _LONGEST_HOLIDAY_RANGE:
            self.error(node, path, f"{_quote(text)} is longer than a year")
            return []
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

    def groups(self, node: yaml.Node) -> dict[str, list[Slot]]:
        fields = self.mapping(node, "groups", None, "a mapping: study group name -> list of lessons")
        if fields is None:
            return {}
        for name, value in fields.items():
            if len(name) > MAX_GROUP_NAME:
                self.error(value, f"groups.{shorten(name)}", f"a group name is at most {MAX_GROUP_NAME} characters")
        return {name: self.group(value, f"groups.{name}") for name, value in fields.items()}

    def group(self, node: yaml.Node, path: str) -> list[Slot]:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, path, f"expected a list of lessons, got {_describe(node)}")
            return []
        if len(node.value) > MAX_SLOTS_PER_GROUP:
            self.error(node, path, f"{len(node.value)} lessons; a group has at most {MAX_SLOTS_PER_GROUP} a week")
            return []
        slots: list[Slot] = []
        first_seen: dict[Slot, int] = {}
        for index, item in enumerate(node.value):
            item_path = f"{path}[{index}]"
            slot = self.slot(item, item_path)
            if slot is None:
                continue
            if slot in first_seen:
                self.error(item, item_path, f"the same lesson as {path}[{first_seen[slot]}]")
                continue
            first_seen[slot] = index
            slots.append(slot)
        return slots

    def slot(self, node: yaml.Node, path: str) -> Slot | None:
        errors_before = len(self.errors)
        fields = self.mapping(node, path, _SLOT_KEYS, '{day: mon, start: "09:00", end: "10:30", subject: ...}')
        if fields is None:
            return None
        for key in _REQUIRED_SLOT_KEYS:
            if key not in fields:
                self.error(node, path, f'missing "{key}"')
        day = self.day(fields["day"], f"{path}.day") if "day" in fields else None
        start = self.time(fields["start"], f"{path}.start") if "start" in fields else None
        end = self.time(fields["end"], f"{path}.end") if "end" in fields else None
        subject = self.text(fields["subject"], f"{path}.subject", MAX_SUBJECT) if "subject" in fields else None
        if subject == "":
            self.error(fields["subject"], f"{path}.subject", "is empty")
        texts = {
            key: self.text(fields[key], f"{path}.{key}", _TEXT_LIMITS[key]) if key in fields else ""
            for key in _OPTIONAL_TEXT
        }
        weeks = self.parity(fields["weeks"], f"{path}.weeks", allow_all=True) if "weeks" in fields else Parity.ALL
        subgroup = self.subgroup(fields["subgroup"], f"{path}.subgroup") if "subgroup" in fields else None
        if start is not None and end is not None and end <= start:
            self.error(fields["end"], f"{path}.end", f'"{end:%H:%M}" is not after the start "{start:%H:%M}"')
        if len(self.errors) > errors_before or day is None or start is None or end is None or not subject:
            return None
        return Slot(
            day=day,
            start=start,
            end=end,
            subject=subject,
            kind=texts["kind"] or "",
            teacher=texts["teacher"] or "",
            room=texts["room"] or "",
            weeks=weeks or Parity.ALL,
            subgroup=subgroup,
        )

    # -- values

    def scalar(self, node: yaml.Node, path: str, expected: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, path, f"expected {expected}, got {_describe(node)}")
            return None
        return "" if node.tag == _NULL_TAG else node.value.strip()

    def text(self, node: yaml.Node, path: str, limit: int) -> str | None:
        text = self.scalar(node, path, "text")
        if text is not None and len(text) > limit:
            self.error(node, path, f"{len(text)} characters; at most {limit} fit (starts {_quote(text)})")
            return None
        return text

    def date(self, node: yaml.Node, path: str) -> date | None:
        text = self.scalar(node, path, "a date (YYYY-MM-DD)")
        if text is None:
            return None
        day = _parse_date(text)
        if day is None:
            self.error(node, path, f"{_quote(text)} is not a date (YYYY-MM-DD)")
        return day

    def time(self, node: yaml.Node, path: str) -> time | None:
        # An unquoted 9:00 is a YAML 1.1 base-60 integer (540); its node still holds the text "9:00".
        text = self.scalar(node, path, "a time (HH:MM)")
        if text is None:
            return None
        match = _TIME.fullmatch(text)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            self.error(node, path, f"{_quote(text)} is not a time (HH:MM)")
            return None
        return time(int(match[1]), int(match[2]))

    def day(self, node: yaml.Node, path: str) -> int | None:
        text = self.scalar(node, path, "a day of the week")
        if text is None:
            return None
        day = _DAYS.get(text.lower().rstrip("."))
        if day is None:
            self.error(node, path, f"{_quote(text)} is not a day of the week (mon..sun or пн..вс)")
        return day

    def parity(self, node: yaml.Node, path: str, allow_all: bool) -> Parity | None:
        text = self.scalar(node, path, "odd or even" if not allow_all else "all, odd or even")
        if text is None:
            return None
        parity = _WEEKS.get(fold(text)) if text else Parity.ALL if allow_all else None
        if parity is None or (parity is Parity.ALL and not allow_all):
            expected = "all, odd or even" if allow_all else "odd or even"
            self.error(node, path, f"{_quote(text)} is not a week parity ({expected})")
            return None
        return parity

    def subgroup(self, node: yaml.Node, path: str) -> int | None:
        """The subgroup number; None (an empty value) is the whole group."""
        text = self.scalar(node, path, "a subgroup number")
        if not text:
            return None
        if not text.isdecimal() or int(text) < 1:
            self.error(node, path, f"{_quote(text)} is not a subgroup number (a positive integer)")
            return None
        return int(text)


_OPTIONAL_TEXT = ("kind", "teacher", "room")


def _parse_date(text: str) -> date | None:
    if _DATE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "nothing" if node.tag == _NULL_TAG else _quote(node.value)


def _quote(text: str) -> str:
    return json.dumps(shorten(text), ensure_ascii=False)


def _join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# -- writing


class _Dumper(yaml.SafeDumper):
    """Writes each lesson on one line as a flow mapping and quotes times, which YAML 1.1 would read as numbers."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # indent list items under their group name, as people write them, not flush with it
        super().increase_indent(flow, False)


class _Inline(dict):
    pass


class _InlineList(list):
    pass


class _Quoted(str):
    __slots__ = ()


_Dumper.add_representer(
    _Inline, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _InlineList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)
_Dumper.add_representer(
    _Quoted, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"')
)


def dump_timetable(timetable: TimetableFile) -> str:
    """The file `load_timetable` reads back to an equal TimetableFile (ids are not written)."""
    document: dict[str, object] = {}
    semester = timetable.semester
    if semester is not None:
        document["semester"] = _Inline(start=semester.start, end=semester.end, first_week=str(semester.first_week))
        if semester.holidays:
            document["holidays"] = _holiday_items(semester.holidays)
    document["groups"] = {name: [_slot_item(slot) for slot in slots] for name, slots in timetable.groups.items()}
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=_NO_WRAP)


def _slot_item(slot: Slot) -> _Inline:
    item = _Inline(
        day=_DAY_CODES[slot.day],
        start=_Quoted(f"{slot.start:%H:%M}"),
        end=_Quoted(f"{slot.end:%H:%M}"),
        subject=slot.subject,
    )
    for key in _OPTIONAL_TEXT:
        if getattr(slot, key):
            item[key] = getattr(slot, key)
    item["weeks"] = str(slot.weeks)
    if slot.subgroup is not None:
        item["subgroup"] = slot.subgroup
    return item


def _holiday_items(holidays: frozenset[date]) -> _InlineList:
    """Consecutive days are written as one range, as a person would write a vacation."""
    items = _InlineList()
    days = sorted(holidays)
    run_start = previous = days[0]
    for day in [*days[1:], None]:
        if day is not None and day - previous == timedelta(days=1):
            previous = day
            continue
        items.append(run_start if run_start == previous else f"{run_start.isoformat()}..{previous.isoformat()}")
        if day is not None:
            run_start = previous = day
    return items
