"""The attendance register (учёт прогулов) a headman hands to the dean's office, as .xlsx and .csv.

Dean's offices keep it the way the paper form looks: students down the side, lessons across the top by date,
"н" for an absence without a valid reason and "у" for one with, and the missed academic hours summed per
student, because regulations count hours, not lessons. The grid is laid out once (`_layout`) and written
twice, so the workbook and the CSV can never disagree about a cell.

Pure on purpose: values in, bytes out. Whoever gathers the marks (storage, the bot) stays outside, and the
register can be checked cell by cell without a database. Its words (headings, totals, the legend, the marks
themselves) come from the caller's text catalog, `register.*` keys, passed in as a plain callable (a `Texts`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from itertools import groupby

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from fsm_bot.folding import fold

Translate = Callable[..., str]  # a text catalog (`fsm_bot.texts.Texts`): key and values in, words out

NAME_HEADERS = ("register.number", "register.last_name", "register.first_name")
TOTALS_LABELS = ("register.total_hours", "register.excused_hours", "register.unexcused_hours")

HEADER_ROW = 4  # the header takes rows 4 and 5
FIRST_STUDENT_ROW = 6
FIRST_LESSON_COLUMN = 4  # D: A–C hold the number, the surname and the name
FREEZE_AT = "D6"

NAME_WIDTHS = (4, 18, 14)
LONGEST_NAME_WIDTH = 30  # a surname longer than the column widens it, up to this
LESSON_WIDTH = 6
TOTALS_WIDTH = 9

_ABSENT_FILL = PatternFill("solid", fgColor="FFC7CE")
_EXCUSED_FILL = PatternFill("solid", fgColor="FFEB9C")
_HEADER_FILL = PatternFill("solid", fgColor="E7E6E6")
_THIN = Side(style="thin")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ROTATED = Alignment(horizontal="center", vertical="bottom", wrap_text=True, text_rotation=90)
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# What Excel and LibreOffice take for the start of a formula when they open a CSV file.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | None


@dataclass(frozen=True)
class RegisterStudent:
    key: int  # any id the caller uses in marks (member id)
    last_name: str
    first_name: str


@dataclass(frozen=True)
class RegisterLesson:
    key: str  # the caller's id of the lesson occurrence, e.g. "2026-11-30T09:00"
    date: date
    start: time | None  # None: a day with no timetable (a whole-day column)
    subject: str
    kind: str = ""  # лекция / практика ...


@dataclass(frozen=True)
class RegisterMark:
    student: int  # RegisterStudent.key
    lesson: str  # RegisterLesson.key
    excused: bool
    reason: str = ""  # the reason in the reader's words, shown in a cell comment for excused marks


@dataclass(frozen=True)
class Register:
    """Everything one sheet shows. Marks naming unknown students or lessons are ignored, not an error:
    a member may have left the group or a lesson been cancelled after the mark was made."""

    group: str
    first: date
    last: date
    students: Sequence[RegisterStudent]
    lessons: Sequence[RegisterLesson]
    marks: Sequence[RegisterMark]
    hours_per_lesson: int = 2

    def __post_init__(self) -> None:
        # Keys are what marks point at: two rows answering to one key would split or double a student's hours.
        if self.hours_per_lesson < 1:
            raise ValueError(f"hours_per_lesson must be at least 1, not {self.hours_per_lesson}")
        if self.first > self.last:
            raise ValueError(f"the period starts ({self.first}) after it ends ({self.last})")
        for what, keys in (("student", [s.key for s in self.students]), ("lesson", [x.key for x in self.lessons])):
            duplicates = sorted(str(key) for key, count in Counter(keys).items() if count > 1)
            if duplicates:
                raise ValueError(f"duplicate {what} keys: {', '.join(duplicates)}")


@dataclass(frozen=True)
class StudentTotals:
    lessons_missed: int
    excused_hours: int
    unexcused_hours: int

    @property
    def hours(self) -> int:
        return self.excused_hours + self.unexcused_hours


def totals(register: Register) -> dict[int, StudentTotals]:
    """Missed lessons and hours for every student (zeros included), so the caller can show a student their own
    count with exactly the numbers the dean's office will see."""
    counts = {student.key: [0, 0] for student in register.students}  # [unexcused, excused]
    for mark in _marks(register).values():
        counts[mark.student][mark.excused] += 1
    hours = register.hours_per_lesson
    return {
        key: StudentTotals(unexcused + excused, excused * hours, unexcused * hours)
        for key, (unexcused, excused) in counts.items()
    }


def register_xlsx(register: Register, t: Translate) -> bytes:
    """The register as the dean's office prints it: one landscape A4 page wide, header and names on every page."""
    return registers_xlsx([register], t)


def registers_xlsx(registers: Sequence[Register], t: Translate) -> bytes:
    """Several groups' registers in one workbook, a sheet each (a faculty's export for one period)."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the empty sheet a new workbook starts with
    workbook.properties.creator = "fsm_bot"
    used: set[str] = set()
    for register in registers:
        title = _sheet_title(register.group) or t("register.sheet")
        while title in used:  # two groups that differ only in forbidden characters
            title = f"{title[:28]}_{len(used)}"
        used.add(title)
        sheet = workbook.create_sheet(title)
        _fill(sheet, register, t)
        if len(used) == 1:
            workbook.properties.title = sheet.cell(1, 1).value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(sheet: Worksheet, register: Register, t: Translate) -> None:
    layout = _layout(register, t)

    for (row, column), value in layout.cells.items():
        cell = sheet.cell(row, column, value)
        if isinstance(value, str):
            cell.data_type = "s"  # a name or subject starting with "=" is text, not a formula
    _style(sheet, layout)
    for first_row, first_column, last_row, last_column in layout.merges:
        sheet.merge_cells(start_row=first_row, start_column=first_column, end_row=last_row, end_column=last_column)
    for (row, column), mark in layout.marks.items():
        if mark.excused and mark.reason:
            sheet.cell(row, column).comment = Comment(_clean(mark.reason), "fsm_bot", height=40, width=140)

    sheet.freeze_panes = FREEZE_AT
    page = sheet.page_setup
    page.orientation = sheet.ORIENTATION_LANDSCAPE
    page.paperSize = sheet.PAPERSIZE_A4
    page.fitToWidth = 1
    page.fitToHeight = 0  # as many pages down as the students need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW + 1}"
    sheet.print_title_cols = "A:C"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    sheet.print_options.horizontalCentered = True
    footer = HeaderFooterItem()
    footer.center.text = t("register.page")
    sheet.oddFooter = footer


def register_csv(register: Register, t: Translate) -> bytes:
    """The same grid as the workbook, cell for cell, for offices that want a file they can import; UTF-8 with a
    BOM and ';' because that is what a Russian Excel opens by double-click without garbling anything."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in _layout(register, t).rows():
        writer.writerow(["" if value is None else _csv_text(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


# -- the grid


@dataclass
class _Layout:
    """Cell values by (row, column), 1-based as in a sheet, plus what only the workbook can show."""

    width: int
    cells: dict[tuple[int, int], Value] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    marks: dict[tuple[int, int], RegisterMark] = field(default_factory=dict)
    table_end: int = HEADER_ROW + 1  # the last bordered row
    total_row: int | None = None
    lesson_labels: list[str] = field(default_factory=list)

    def put(
        self, row: int, column: int, value: Value, *, to_row: int | None = None, to_column: int | None = None
    ) -> None:
        self.cells[row, column] = value
        if (to_row or row, to_column or column) != (row, column):
            self.merges.append((row, column, to_row or row, to_column or column))

    def rows(self) -> list[list[Value]]:
        height = max(row for row, _ in self.cells)
        return [[self.cells.get((row, column)) for column in range(1, self.width + 1)] for row in range(1, height + 1)]


def _layout(register: Register, t: Translate) -> _Layout:
    students = sorted(register.students, key=lambda s: (_collation(s.last_name), _collation(s.first_name)))
    lessons = sorted(register.lessons, key=lambda lesson: (lesson.date, lesson.start or time.min))
    marks = _marks(register)
    sums = totals(register)
    totals_column = FIRST_LESSON_COLUMN + len(lessons)
    layout = _Layout(width=totals_column + len(TOTALS_LABELS) - 1)

    layout.put(1, 1, t("register.title", group=_clean(register.group)), to_column=layout.width)
    first, last = f"{register.first:%d.%m.%Y}", f"{register.last:%d.%m.%Y}"
    period = t("register.period", first=first, last=last, hours=register.hours_per_lesson)
    layout.put(2, 1, period, to_column=layout.width)
    if not lessons:
        layout.put(3, 1, t("register.no_lessons"))

    for column, header in enumerate(NAME_HEADERS, start=1):
        layout.put(HEADER_ROW, column, t(header), to_row=HEADER_ROW + 1)
    column = FIRST_LESSON_COLUMN
    for day, same_day in groupby(lessons, key=lambda lesson: lesson.date):
        count = len(list(same_day))
        layout.put(HEADER_ROW, column, f"{day:%d.%m}", to_column=column + count - 1)
        column += count
    for column, lesson in enumerate(lessons, start=FIRST_LESSON_COLUMN):
        layout.lesson_labels.append(_lesson_label(lesson))
        layout.put(HEADER_ROW + 1, column, layout.lesson_labels[-1])
    layout.put(HEADER_ROW, totals_column, t("register.missed_hours"), to_column=layout.width)
    for column, label in enumerate(TOTALS_LABELS, start=totals_column):
        layout.put(HEADER_ROW + 1, column, t(label))

    if not students:
        layout.put(FIRST_STUDENT_ROW, 1, t("register.no_students"))
        layout.put(FIRST_STUDENT_ROW + 2, 1, t("register.legend"))
        return layout

    absent, excused = t("register.absent"), t("register.excused")
    group_hours = [0] * len(TOTALS_LABELS)
    for number, student in enumerate(students, start=1):
        row = FIRST_STUDENT_ROW + number - 1
        layout.put(row, 1, number)
        layout.put(row, 2, _clean(student.last_name))
        layout.put(row, 3, _clean(student.first_name))
        for column, lesson in enumerate(lessons, start=FIRST_LESSON_COLUMN):
            mark = marks.get((student.key, lesson.key))
            if mark is not None:
                layout.put(row, column, excused if mark.excused else absent)
                layout.marks[row, column] = mark
        student_totals = sums[student.key]
        hours_by_kind = (student_totals.hours, student_totals.excused_hours, student_totals.unexcused_hours)
        for column, hours in enumerate(hours_by_kind, start=totals_column):
            layout.put(row, column, hours)
        group_hours = [group + hours for group, hours in zip(group_hours, hours_by_kind, strict=True)]

    row = layout.total_row = layout.table_end = FIRST_STUDENT_ROW + len(students)
    layout.put(row, 1, t("register.total"), to_column=3)
    for column, lesson in enumerate(lessons, start=FIRST_LESSON_COLUMN):
        layout.put(row, column, sum(1 for student in students if (student.key, lesson.key) in marks))
    for column, hours in enumerate(group_hours, start=totals_column):
        layout.put(row, column, hours)
    layout.put(row + 2, 1, t("register.legend"))
    return layout


def _marks(register: Register) -> dict[tuple[int, str], RegisterMark]:
    """One mark per (student, lesson), the caller's last word winning, and only for rows and columns that exist."""
    students = {student.key for student in register.students}
    lessons = {lesson.key for lesson in register.lessons}
    return {
        (mark.student, mark.lesson): mark
        for mark in register.marks
        if mark.student in students and mark.lesson in lessons
    }


def _lesson_label(lesson: RegisterLesson) -> str:
    label = _clean(lesson.subject) if lesson.start is None else f"{lesson.start:%H:%M} {_clean(lesson.subject)}"
    return f"{label} ({_clean(lesson.kind)})" if lesson.kind else label


def _collation(name: str) -> str:
    """Ё sorts with Е in Russian lists; code points would put Ёлкин after Яковлев."""
    return fold(name)


def _clean(text: str) -> str:
    """Control characters (pasted from a VK profile, say) make openpyxl refuse the whole workbook."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _csv_text(value: str | int) -> str:
    """A cell Excel would run as a formula on opening gets the apostrophe Excel itself uses to mean "text"."""
    text = str(value)
    return f"'{text}" if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def _sheet_title(group: str) -> str:
    """Excel refuses a sheet named with []:*?/\\, longer than 31 characters or starting or ending with an apostrophe;
    "" when nothing of the name is left (the caller names the sheet then)."""
    return _SHEET_TITLE_FORBIDDEN.sub("_", _clean(group)).strip().strip("'")[:31].strip().strip("'")


# -- the look


def _style(sheet: Worksheet, layout: _Layout) -> None:
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    sheet.cell(2, 1).alignment = Alignment(horizontal="center")
    for row in range(HEADER_ROW, layout.table_end + 1):
        for column in range(1, layout.width + 1):
            cell = sheet.cell(row, column)
            cell.border = _GRID
            if row <= HEADER_ROW + 1:
                cell.font = Font(bold=True)
                cell.fill = _HEADER_FILL
                cell.alignment = _CENTER
            elif column != 2 and column != 3:
                cell.alignment = _CENTER
            if row == layout.total_row:
                cell.font = Font(bold=True)
    lesson_columns = range(FIRST_LESSON_COLUMN, FIRST_LESSON_COLUMN + len(layout.lesson_labels))
    for column in lesson_columns:
        sheet.cell(HEADER_ROW + 1, column).alignment = _ROTATED
        sheet.cell(HEADER_ROW + 1, column).font = Font(bold=False, size=9)
    for (row, column), mark in layout.marks.items():
        sheet.cell(row, column).fill = _EXCUSED_FILL if mark.excused else _ABSENT_FILL
    if layout.total_row is not None:
        sheet.cell(layout.total_row, 1).alignment = Alignment(horizontal="left", vertical="center")

    longest = max((len(label) for label in layout.lesson_labels), default=0)
    # Rotated, a label wraps at the row's height and its lines stack across the column, which holds about
    # three lines of 9-point text: a row tall enough for half the label keeps every label inside its column.
    sheet.row_dimensions[HEADER_ROW + 1].height = min(max(40, 2.5 * longest + 16), 160)
    sheet.row_dimensions[1].height = 20
    widths = [NAME_WIDTHS[0], _fitting(layout, 2), _fitting(layout, 3)]
    widths += [LESSON_WIDTH] * len(layout.lesson_labels) + [TOTALS_WIDTH] * len(TOTALS_LABELS)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def _fitting(layout: _Layout, column: int) -> int:
    """A name column as wide as its longest name, so a long surname is not cut at the lesson marks."""
    names = [layout.cells[row, column] for row in range(FIRST_STUDENT_ROW, layout.total_row or FIRST_STUDENT_ROW)]
    longest = max((len(str(name)) for name in names), default=0)
    return min(max(NAME_WIDTHS[column - 1], longest + 2), LONGEST_NAME_WIDTH)
