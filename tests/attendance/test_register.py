"""The dean's office register: every cell of the workbook, the CSV as the same grid, and the totals behind both."""

from __future__ import annotations

import csv
import io
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from fsm_bot.attendance import (
    Register,
    RegisterLesson,
    RegisterMark,
    RegisterStudent,
    StudentTotals,
    register_csv,
    register_xlsx,
    totals,
)
from fsm_bot.texts import Texts

RU, EN = Texts.load("ru"), Texts.load("en")

LEGEND = "н — отсутствие без уважительной причины; у — по уважительной причине"

# Given out of order on purpose; sorted they are Абрамова, Ёлкин, Сидоров Алексей, Сидоров Андрей, Яковлев
# (Ё with Е, not after Я as code points would have it).
STUDENTS = [
    RegisterStudent(10, "Сидоров", "Андрей"),
    RegisterStudent(20, "Ёлкин", "Борис"),
    RegisterStudent(30, "Абрамова", "Дарья"),
    RegisterStudent(40, "Сидоров", "Алексей"),
    RegisterStudent(50, "Яковлев", "Ян"),
]
# Sorted: L1 (D), L2 (E) on 30.11, the whole-day L3 (F) on 01.12, L4 (G) on 02.12; totals in H, I, J.
LESSONS = [
    RegisterLesson("L3", date(2026, 12, 1), None, "Практика на предприятии"),
    RegisterLesson("L2", date(2026, 11, 30), time(10, 40), "Физика", "практика"),
    RegisterLesson("L4", date(2026, 12, 2), time(9, 0), "История"),
    RegisterLesson("L1", date(2026, 11, 30), time(9, 0), "Математика", "лекция"),
]
MARKS = [
    RegisterMark(30, "L1", excused=False, reason="проспал"),  # "н": the reason is not shown
    RegisterMark(30, "L2", excused=True, reason="болезнь"),
    RegisterMark(20, "L4", excused=True),  # excused without a reason: "у" and no comment
    RegisterMark(10, "L3", excused=False),
    RegisterMark(10, "L3", excused=True, reason="официально"),  # the last word wins: "у"
    RegisterMark(50, "L1", excused=True, reason="другое"),
    RegisterMark(50, "L1", excused=False),  # the last word wins: "н", and no comment
    RegisterMark(99, "L1", excused=False),  # nobody in the group
    RegisterMark(40, "cancelled", excused=False),  # no such lesson
]
REGISTER = Register("ИВТ-101/2", date(2026, 11, 30), date(2026, 12, 6), STUDENTS, LESSONS, MARKS)

LESSON_LABELS = ["09:00 Математика (лекция)", "10:40 Физика (практика)", "Практика на предприятии", "09:00 История"]
# Rows 4 to 13 of the sheet, A to J.
EXPECTED_TABLE = [
    ["№", "Фамилия", "Имя", "30.11", None, "01.12", "02.12", "Пропущено, ак. ч.", None, None],
    [None, None, None, *LESSON_LABELS, "всего", "по уваж.", "без уваж."],
    [1, "Абрамова", "Дарья", "н", "у", None, None, 4, 2, 2],
    [2, "Ёлкин", "Борис", None, None, None, "у", 2, 2, 0],
    [3, "Сидоров", "Алексей", None, None, None, None, 0, 0, 0],
    [4, "Сидоров", "Андрей", None, None, "у", None, 2, 2, 0],
    [5, "Яковлев", "Ян", "н", None, None, None, 2, 0, 2],
    ["Итого", None, None, 2, 1, 1, 1, 10, 6, 4],
    [None] * 10,
    [LEGEND] + [None] * 9,
]


def sheet_of(register: Register, texts: Texts = RU) -> Worksheet:
    workbook = load_workbook(io.BytesIO(register_xlsx(register, texts)))
    assert len(workbook.worksheets) == 1
    return workbook.active


def grid(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_grid(register: Register, texts: Texts = RU) -> list[list[str]]:
    data = register_csv(register, texts)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def merges(sheet: Worksheet) -> set[str]:
    return {str(merged) for merged in sheet.merged_cells.ranges}


@pytest.fixture(scope="module")
def sheet() -> Worksheet:
    return sheet_of(REGISTER)


# -- the workbook


def test_the_title_names_the_group_and_the_period_says_what_an_hour_is(sheet: Worksheet) -> None:
    assert sheet["A1"].value == "Журнал посещаемости группы ИВТ-101/2"
    assert sheet["A1"].font.bold
    assert sheet["A2"].value == "за период 30.11.2026 – 06.12.2026; 1 пара = 2 ак. ч."
    assert {"A1:J1", "A2:J2"} <= merges(sheet)
    assert sheet["A3"].value is None


def test_the_table_is_exactly_the_expected_grid(sheet: Worksheet) -> None:
    assert grid(sheet)[3:] == EXPECTED_TABLE
    assert sheet.max_row == 13
    assert sheet.max_column == 10


def test_the_header_merges_names_vertically_and_lessons_of_one_day_across(sheet: Worksheet) -> None:
    # a day with a single lesson (F, G) is not merged, nor are the lessons' own labels in row 5
    assert merges(sheet) == {"A1:J1", "A2:J2", "A4:A5", "B4:B5", "C4:C5", "D4:E4", "H4:J4", "A11:C11"}
    labels = [sheet.cell(5, column) for column in range(4, 8)]
    assert all(cell.alignment.text_rotation == 90 for cell in labels)
    assert sheet.row_dimensions[5].height >= 2 * len(LESSON_LABELS[0])


def test_absences_are_marked_filled_and_centred_where_they_belong(sheet: Worksheet) -> None:
    absent = {cell.coordinate for row in sheet["D6:G10"] for cell in row if cell.value == "н"}
    excused = {cell.coordinate for row in sheet["D6:G10"] for cell in row if cell.value == "у"}
    assert absent == {"D6", "D10"}
    assert excused == {"E6", "G7", "F9"}
    for coordinate in absent:
        assert sheet[coordinate].fill.fgColor.rgb.endswith("FFC7CE")
    for coordinate in excused:
        assert sheet[coordinate].fill.fgColor.rgb.endswith("FFEB9C")
        assert sheet[coordinate].alignment.horizontal == "center"
    assert sheet["F6"].fill.fill_type is None


def test_excused_cells_carry_the_reason_in_a_comment(sheet: Worksheet) -> None:
    comments = {cell.coordinate: cell.comment.text for row in sheet.iter_rows() for cell in row if cell.comment}
    # G7 is excused without a reason; D10's reason went with the excuse the caller overrode
    assert comments == {"E6": "болезнь", "F9": "официально"}


def test_totals_are_numbers_not_formulas(sheet: Worksheet) -> None:
    for row in sheet["H6:J11"]:
        for cell in row:
            assert cell.data_type == "n"
            assert isinstance(cell.value, int)


def test_the_grid_has_thin_borders_and_the_legend_none(sheet: Worksheet) -> None:
    for coordinate in ("D5", "F4", "B8", "E7", "J10"):
        border = sheet[coordinate].border
        assert (border.left.style, border.right.style, border.top.style, border.bottom.style) == ("thin",) * 4
    # merged cells: the edges of the merge
    assert (sheet["E4"].border.top.style, sheet["E4"].border.right.style, sheet["A5"].border.bottom.style) == (
        "thin",
        "thin",
        "thin",
    )
    assert (sheet["C11"].border.right.style, sheet["J11"].border.bottom.style) == ("thin", "thin")
    assert sheet["A13"].border.top.style is None
    assert sheet["A11"].font.bold


def test_names_and_header_stay_in_view_and_columns_are_sized(sheet: Worksheet) -> None:
    assert sheet.freeze_panes == "D6"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJ"}
    assert widths == {"A": 4, "B": 18, "C": 14, "D": 6, "E": 6, "F": 6, "G": 6, "H": 9, "I": 9, "J": 9}


def test_a_long_surname_widens_its_column_up_to_a_limit() -> None:
    students = [RegisterStudent(1, "Константинопольский-Задунайский", "Ян"), RegisterStudent(2, "Ли", "Ким" * 7)]
    sheet = sheet_of(Register("Г", date(2026, 1, 1), date(2026, 1, 1), students, [], []))
    assert sheet.column_dimensions["B"].width == 30
    assert sheet.column_dimensions["C"].width == 23


def test_it_prints_landscape_on_a4_one_page_wide_with_titles_repeated(sheet: Worksheet) -> None:
    page = sheet.page_setup
    assert page.orientation == "landscape"
    assert str(page.paperSize) == sheet.PAPERSIZE_A4
    assert (page.fitToWidth, page.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$4:$5"
    assert sheet.print_title_cols == "$A:$C"
    assert sheet.page_margins.left < 0.7  # narrower than Excel's default


@pytest.mark.parametrize(
    ("group", "title"),
    [
        ("ИВТ-101/2", "ИВТ-101_2"),
        ("A[1]:*?\\", "A_1_____"),
        ("Группа с очень длинным названием 2026", "Группа с очень длинным названием 2026"[:31]),
        ("'ПМИ'", "ПМИ"),
        ("'" + "Б" * 40, "Б" * 31),
        ("  ", "Журнал"),
    ],
)
def test_the_sheet_title_is_what_excel_accepts(group: str, title: str) -> None:
    sheet = sheet_of(Register(group, date(2026, 1, 1), date(2026, 1, 1), [], [], []))
    assert sheet.title == title
    assert len(sheet.title) <= 31
    assert sheet["A1"].value == f"Журнал посещаемости группы {group}"


def test_a_name_that_looks_like_a_formula_stays_text() -> None:
    students = [RegisterStudent(1, '=HYPERLINK("http://x","y")', "+7"), RegisterStudent(2, "Ив\x01анов", "Иван")]
    register = Register("Г", date(2026, 1, 1), date(2026, 1, 1), students, [], [])
    sheet = sheet_of(register)
    assert (sheet["B6"].value, sheet["B6"].data_type) == ('=HYPERLINK("http://x","y")', "s")
    assert (sheet["C6"].value, sheet["C6"].data_type) == ("+7", "s")
    assert sheet["B7"].value == "Иванов"  # a control character would have made the workbook unreadable
    assert csv_grid(register)[5][1:3] == ['\'=HYPERLINK("http://x","y")', "'+7"]


def test_hours_per_lesson_shows_in_the_period_line_and_the_totals() -> None:
    register = Register("Г", REGISTER.first, REGISTER.last, STUDENTS, LESSONS, MARKS, hours_per_lesson=1)
    sheet = sheet_of(register)
    assert sheet["A2"].value == "за период 30.11.2026 – 06.12.2026; 1 пара = 1 ак. ч."
    assert [cell.value for cell in sheet["H6:J6"][0]] == [2, 1, 1]
    assert [cell.value for cell in sheet["H11:J11"][0]] == [5, 3, 2]


# -- empty registers


def test_without_lessons_the_students_are_listed_with_nothing_missed() -> None:
    register = Register("Г", date(2026, 1, 1), date(2026, 1, 7), STUDENTS[:2], [], [RegisterMark(10, "L1", False)])
    sheet = sheet_of(register)
    assert grid(sheet) == [
        ["Журнал посещаемости группы Г", None, None, None, None, None],
        ["за период 01.01.2026 – 07.01.2026; 1 пара = 2 ак. ч.", None, None, None, None, None],
        ["Занятий за период нет", None, None, None, None, None],
        ["№", "Фамилия", "Имя", "Пропущено, ак. ч.", None, None],
        [None, None, None, "всего", "по уваж.", "без уваж."],
        [1, "Ёлкин", "Борис", 0, 0, 0],
        [2, "Сидоров", "Андрей", 0, 0, 0],
        ["Итого", None, None, 0, 0, 0],
        [None] * 6,
        [LEGEND] + [None] * 5,
    ]
    assert "D4:F4" in merges(sheet)
    assert sheet.freeze_panes == "D6"


def test_without_students_the_lessons_head_an_empty_table() -> None:
    sheet = sheet_of(Register("Г", date(2026, 11, 30), date(2026, 12, 6), [], LESSONS, MARKS))
    assert grid(sheet)[3:] == [
        EXPECTED_TABLE[0],
        EXPECTED_TABLE[1],
        ["Студентов нет"] + [None] * 9,
        [None] * 10,
        [LEGEND] + [None] * 9,
    ]
    assert sheet["A3"].value is None
    assert not any(cell.comment for row in sheet.iter_rows() for cell in row)


def test_with_nothing_at_all_both_notes_are_there() -> None:
    register = Register("Г", date(2026, 1, 1), date(2026, 1, 1), [], [], [])
    sheet = sheet_of(register)
    assert (sheet["A3"].value, sheet["A4"].value, sheet["D4"].value) == (
        "Занятий за период нет",
        "№",
        "Пропущено, ак. ч.",
    )
    assert sheet["A6"].value == "Студентов нет"
    assert csv_grid(register)[5][0] == "Студентов нет"


# -- the CSV


def as_csv(value: object) -> str:
    """What a workbook cell becomes in the CSV: text Excel would take for a formula gets an apostrophe."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return f"'{value}"
    return "" if value is None else str(value)


def test_the_csv_is_the_workbook_grid_cell_for_cell(sheet: Worksheet) -> None:
    rows = csv_grid(REGISTER)
    assert rows == [[as_csv(value) for value in row] for row in grid(sheet)]
    assert rows[0][0] == "Журнал посещаемости группы ИВТ-101/2"
    assert rows[5] == ["1", "Абрамова", "Дарья", "н", "у", "", "", "4", "2", "2"]
    assert rows[10] == ["Итого", "", "", "2", "1", "1", "1", "10", "6", "4"]
    assert all(len(row) == 10 for row in rows)


def test_the_csv_opens_in_a_russian_excel() -> None:
    data = register_csv(REGISTER, RU)
    assert data.startswith("\ufeffЖурнал".encode())
    assert data.count(b"\r\n") == 13
    assert b";" in data.splitlines()[3] and b"," not in data.splitlines()[5]


# -- in English


def test_an_english_catalog_writes_the_whole_register_in_english() -> None:
    register = Register("CS-101", REGISTER.first, REGISTER.last, STUDENTS, LESSONS, MARKS, hours_per_lesson=1)
    sheet = sheet_of(register, EN)
    assert sheet["A1"].value == "Attendance register of group CS-101"
    assert sheet["A2"].value == "for 30.11.2026 – 06.12.2026; 1 class = 1 academic hour"
    assert grid(sheet)[3][:4] == ["No.", "Surname", "First name", "30.11"]
    assert grid(sheet)[3][7] == "Missed, academic hours"
    assert grid(sheet)[4][7:] == ["total", "excused", "unexcused"]
    assert grid(sheet)[5][3:5] == ["A", "E"]
    assert grid(sheet)[10][0] == "Total"
    assert grid(sheet)[12][0] == "A — absent without a valid reason; E — absent with a valid reason"
    assert sheet.oddFooter.center.text == "Page &P of &N"
    assert csv_grid(register, EN) == [[as_csv(value) for value in row] for row in grid(sheet)]
    two_hours = Register("CS-101", REGISTER.first, REGISTER.last, [], [], [])
    assert sheet_of(two_hours, EN)["A2"].value == "for 30.11.2026 – 06.12.2026; 1 class = 2 academic hours"
    assert sheet_of(two_hours, EN)["A3"].value == "No classes in this period"
    assert sheet_of(two_hours, EN)["A6"].value == "No students"
    assert sheet_of(Register("  ", REGISTER.first, REGISTER.last, [], [], []), EN).title == "Register"


# -- totals


def test_totals_count_each_pair_once_with_the_last_word_winning() -> None:
    assert totals(REGISTER) == {
        30: StudentTotals(2, 2, 2),
        20: StudentTotals(1, 2, 0),
        10: StudentTotals(1, 2, 0),  # н, then у: one excused lesson, not two
        40: StudentTotals(0, 0, 0),  # its only mark names a lesson that is not in the register
        50: StudentTotals(1, 0, 2),  # у, then н
    }
    assert totals(REGISTER)[30].hours == 4


def test_marks_for_unknown_students_or_lessons_are_ignored() -> None:
    marks = [RegisterMark(99, "L1", False), RegisterMark(30, "nope", True), RegisterMark(30, "L4", False)]
    register = Register("Г", REGISTER.first, REGISTER.last, STUDENTS, LESSONS, marks)
    assert 99 not in totals(register)
    assert totals(register)[30] == StudentTotals(1, 0, 2)
    assert sum(result.lessons_missed for result in totals(register).values()) == 1


def test_hours_per_lesson_scales_hours_but_not_lessons() -> None:
    one = totals(Register("Г", REGISTER.first, REGISTER.last, STUDENTS, LESSONS, MARKS, hours_per_lesson=1))
    four = totals(Register("Г", REGISTER.first, REGISTER.last, STUDENTS, LESSONS, MARKS, hours_per_lesson=4))
    assert one[30] == StudentTotals(2, 1, 1)
    assert four[30] == StudentTotals(2, 4, 4)
    assert four[50].hours == 4


@pytest.mark.parametrize(
    "arguments",
    [
        {"hours_per_lesson": 0},
        {"first": date(2026, 12, 7)},
        {"students": [*STUDENTS, RegisterStudent(10, "Другой", "Сидоров")]},
        {"lessons": [*LESSONS, RegisterLesson("L1", date(2026, 12, 3), None, "Дубль")]},
    ],
)
def test_a_register_that_cannot_be_right_is_refused(arguments: dict[str, object]) -> None:
    fields = {"first": REGISTER.first, "students": STUDENTS, "lessons": LESSONS} | arguments
    with pytest.raises(ValueError):
        Register(group="Г", last=REGISTER.last, marks=MARKS, **fields)


# -- any register


names = st.text(alphabet="АБВЕЁЖИКЛМНОПРСТЯабеёжиклмнопрстя-", min_size=1, max_size=12)
lesson_times = st.one_of(st.none(), st.times().map(lambda moment: moment.replace(second=0, microsecond=0)))


@st.composite
def registers(draw: st.DrawFn) -> Register:
    student_keys = draw(st.lists(st.integers(1, 10_000), max_size=6, unique=True))
    students = [RegisterStudent(key, draw(names), draw(names)) for key in student_keys]
    lesson_keys = draw(st.lists(st.text(min_size=1, max_size=5), max_size=6, unique=True))
    days = st.dates(date(2026, 9, 1), date(2026, 9, 5))
    lessons = [RegisterLesson(key, draw(days), draw(lesson_times), draw(names)) for key in lesson_keys]
    mark = st.builds(
        RegisterMark,
        st.sampled_from([*student_keys, -1]),
        st.sampled_from([*lesson_keys, "?"]),
        st.booleans(),
        st.sampled_from(["", "болезнь"]),
    )
    marks = draw(st.lists(mark, max_size=25))
    return Register("Г", date(2026, 9, 1), date(2026, 9, 5), students, lessons, marks, draw(st.integers(1, 4)))


@settings(max_examples=40, deadline=None)
@given(registers())
def test_any_register_agrees_with_its_totals_and_its_csv(register: Register) -> None:
    last_word = {(mark.student, mark.lesson): mark.excused for mark in register.marks}
    known = {
        pair: excused
        for pair, excused in last_word.items()
        if pair[0] in {s.key for s in register.students} and pair[1] in {x.key for x in register.lessons}
    }
    hours = register.hours_per_lesson
    result = totals(register)
    assert set(result) == {student.key for student in register.students}
    for key, student_totals in result.items():
        mine = [excused for (student, _), excused in known.items() if student == key]
        assert student_totals == StudentTotals(len(mine), hours * sum(mine), hours * (len(mine) - sum(mine)))

    sheet = sheet_of(register)
    assert csv_grid(register) == [[as_csv(value) for value in row] for row in grid(sheet)]
    if not register.students:
        return
    students = len(register.students)
    lessons = len(register.lessons)
    cells = [cell.value for row in sheet.iter_rows(6, 5 + students, 4, 3 + lessons) for cell in row]
    assert cells.count("н") == sum(not excused for excused in known.values())
    assert cells.count("у") == sum(known.values())
    total_row = [cell.value for cell in sheet[6 + students]]
    assert total_row[0] == "Итого"
    assert total_row[3 + lessons :] == [
        sum(t.hours for t in result.values()),
        sum(t.excused_hours for t in result.values()),
        sum(t.unexcused_hours for t in result.values()),
    ]
    dates = [sheet.cell(4, column).value for column in range(4, 4 + lessons)]
    shown = [value for value in dates if value is not None]
    assert shown == sorted({f"{lesson.date:%d.%m}" for lesson in register.lessons})
