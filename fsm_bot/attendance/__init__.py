"""The attendance register for the dean's office, as pure values: marks in, .xlsx and .csv bytes out.

Nothing here touches the database or VK, so the caller gathers members, lessons and marks however it likes
and the register itself is tested cell by cell.
"""

from fsm_bot.attendance.register import (
    Register,
    RegisterLesson,
    RegisterMark,
    RegisterStudent,
    StudentTotals,
    register_csv,
    register_xlsx,
    registers_xlsx,
    totals,
)

__all__ = [
    "Register",
    "RegisterLesson",
    "RegisterMark",
    "RegisterStudent",
    "StudentTotals",
    "register_csv",
    "register_xlsx",
    "registers_xlsx",
    "totals",
]
