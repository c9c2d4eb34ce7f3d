"""The iCalendar format as fsm_bot writes and reads it: names of our properties and labels.

Export (ics_export) and import (ics_import) agree on these, so our own export reads back exactly.
"""

from __future__ import annotations

from datetime import timedelta

from fsm_bot.timetable.limits import LONGEST_SEMESTER_DAYS
from fsm_bot.timetable.model import Parity

PRODID = "-//fsm_bot//timetable//RU"
UID_DOMAIN = "fsm-bot"
# An event's DESCRIPTION holds «Label: value» lines, the labels in the reader's language (catalog keys
# timetable.ics.teacher/subgroup). The import knows every language's labels, lower-cased: a file exported
# in English reads back like one in Russian (tests/timetable/test_ics.py checks these against the catalogs).
TEACHER_LABEL_KEY = "timetable.ics.teacher"
SUBGROUP_LABEL_KEY = "timetable.ics.subgroup"
TEACHER_LABELS = frozenset({"преподаватель", "teacher"})
SUBGROUP_LABELS = frozenset({"подгруппа", "subgroup"})
X_SEMESTER = "X-FSM-BOT-SEMESTER"  # 2026-09-01..2026-12-30
X_FIRST_WEEK = "X-FSM-BOT-FIRST-WEEK"  # odd | even
X_HOLIDAYS = "X-FSM-BOT-HOLIDAYS"  # space-separated dates
X_KIND = "X-FSM-BOT-KIND"  # per event: the kind, so "Язык (английский)" without a kind is not split

# A rule that runs longer than this is a "repeat forever" left by a lazy export, not a semester.
LONGEST_RULE = timedelta(days=LONGEST_SEMESTER_DAYS)
# Where never-ending rules stop when nothing else in the calendar says where the semester ends.
DEFAULT_SEMESTER_LENGTH = timedelta(weeks=26)
# The other parity's share of a lesson's weeks below which those appearances are strays (moved lessons).
STRAY_SHARE = 0.25

PARITIES = (Parity.ODD, Parity.EVEN)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SUPPORTED_RULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST"}
