"""A poll's result as a spreadsheet the author can keep or pass on.

A named poll has a second sheet, one row per student and their answer; an anonymous one has none, and its
first sheet only counts: the file says no more than the report does.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from fsm_bot.services.polls import PollResults, kind_line
from fsm_bot.texts import Texts


def _clean(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _row(sheet: Worksheet, *values: str | int, bold: bool = False) -> None:
    sheet.append([_clean(value) if isinstance(value, str) else value for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # an answer starting with "=" is text, not a formula
        if bold:
            cell.font = Font(bold=True)


def results_xlsx(texts: Texts, results: PollResults) -> bytes:
    workbook = Workbook()
    workbook.properties.creator = "fsm_bot"
    summary = workbook.active
    assert summary is not None
    summary.title = texts("poll.sheet_summary")
    _row(summary, texts("poll.result_title", id=results.poll_id, question=results.question), bold=True)
    _row(summary, kind_line(texts, results.multiple, results.anonymous, results.closes_label))
    _row(summary, "")
    if results.anonymous:
        _row(summary, texts("poll.column_option"), texts("poll.column_count"), bold=True)
        for option in results.options:
            _row(summary, option.label, option.count)
    else:
        _row(summary, texts("poll.column_option"), texts("poll.column_count"), texts("poll.column_who"), bold=True)
        for option in results.options:
            _row(summary, option.label, option.count, ", ".join(option.names))
    _row(summary, "")
    _row(summary, texts("poll.column_answered"), results.answered)
    _row(summary, texts("poll.column_delivered"), results.delivered)
    summary.column_dimensions["A"].width = 42
    summary.column_dimensions["C"].width = 60
    if not results.anonymous:
        answers = workbook.create_sheet(texts("poll.sheet_answers"))
        _row(answers, texts("poll.column_student"), texts("poll.column_answer"), bold=True)
        for name, chosen in results.voters:
            _row(answers, name, "; ".join(chosen))
        for name in results.unanswered:
            _row(answers, name, "")
        answers.column_dimensions["A"].width = 32
        answers.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
