"""Lessons as people read them, in the words of the text catalog (`timetable.*` keys).

Views, digests, reminders and change notices all show lessons; one renderer keeps them alike.
It takes the catalog as a plain callable, so the timetable stays free of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from fsm_bot.timetable.calendar import parity_of
from fsm_bot.timetable.model import Lesson, LessonStatus, Move, Parity, Semester

Translate = Callable[..., str]

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STATUS_MARKS = {
    LessonStatus.REGULAR: "",
    LessonStatus.CANCELLED: "❌ ",
    LessonStatus.MOVED: "🔁 ",
    LessonStatus.MOVED_AWAY: "↪️ ",
    LessonStatus.EXTRA: "➕ ",
}
STATUS_KEYS = {
    LessonStatus.CANCELLED: "timetable.status.cancelled",
    LessonStatus.MOVED: "timetable.status.moved",
    LessonStatus.MOVED_AWAY: "timetable.status.moved_away",
    LessonStatus.EXTRA: "timetable.status.extra",
}


def day_title(t: Translate, semester: Semester | None, day: date) -> str:
    """«Пн, 30.11 · нечётная неделя»: the parity is what students ask about most."""
    weekday = t(f"timetable.weekdays.{WEEKDAY_KEYS[day.weekday()]}")
    title = t("timetable.day_title", weekday=weekday, date=day.strftime("%d.%m"))
    if semester is not None:
        title += t("timetable.parity_suffix", parity=parity_name(t, parity_of(semester, day)))
    return title


def lesson_line(t: Translate, lesson: Lesson, show_subgroup: bool = True) -> str:
    line = f"{lesson.start:%H:%M}–{lesson.end:%H:%M} {lesson.subject}"
    if lesson.kind:
        line += f" ({lesson.kind})"
    if lesson.room:
        line += t("timetable.room", room=lesson.room)
    if lesson.teacher:
        line += f", {lesson.teacher}"
    if show_subgroup and lesson.subgroup is not None:
        line += t("timetable.subgroup", number=lesson.subgroup)
    status_key = STATUS_KEYS.get(lesson.status)
    note = lesson_note(t, lesson)
    if lesson.status in (LessonStatus.MOVED, LessonStatus.MOVED_AWAY) and note:
        # The note of a move says it all («перенесено из ауд. 207»): the status word would repeat it.
        line += t("timetable.move_note", note=note)
    elif status_key is not None:
        line += t(status_key)
        if note:
            line += t("timetable.status_note", note=note)
    return STATUS_MARKS[lesson.status] + line


def lesson_note(t: Translate, lesson: Lesson) -> str:
    """What a changed lesson says about itself, «перенесено с 09.11 09:00; зачёт»: where it moved, in the
    reader's words (`timetable.moves.*`), and the headman's own note."""
    return "; ".join(part for part in (move_words(t, lesson.move), lesson.note) if part)


def move_words(t: Translate, move: Move | None) -> str:
    if move is None:
        return ""
    if move.away:
        key = "to_room" if move.room else "to"
    elif move.date is not None:
        key = "from_day"
    elif move.start is None:
        key = "from_room" if move.room else "room_changed"
    else:
        key = "from_time_room" if move.room else "from_time"
    day = f"{move.date:%d.%m}" if move.date is not None else ""
    start = f"{move.start:%H:%M}" if move.start is not None else ""
    return t(f"timetable.moves.{key}", date=day, time=start, room=move.room)


def day_text(
    t: Translate, semester: Semester | None, day: date, lessons: Sequence[Lesson], show_subgroup: bool = True
) -> str:
    """A day's title and lessons; a week's days pass no semester, the week's title names its parity once."""
    lines = [day_title(t, semester, day)]
    lines += [lesson_line(t, lesson, show_subgroup) for lesson in lessons] or [t("timetable.no_lessons")]
    return "\n".join(lines)


def parity_name(t: Translate, parity: Parity) -> str:
    return t(f"timetable.parity.{parity.value}")
