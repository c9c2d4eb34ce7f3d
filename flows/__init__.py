"""Dialogs, one module each. Every module-level Flow here is on by default (settings.yaml `flows:` can
name a narrower list): a new dialog is a new module, its texts and its test.

ORDER is the menu's and «помощь»'s order; a module it does not list comes after these, by name.
"""

ORDER = [
    "help",
    "onboarding",
    "membership",
    "appoint",
    "broadcast",
    "setup",
    "group_chat",
    "ack",
    "poll_vote",
    "broadcast_report",
    "history",
    "timetable",
    "timetable_change",
    "timetable_upload",
    "reminders",
    "homework",
    "attendance",
    "absences",
    "attendance_report",
    "queues",
    "language",
]
