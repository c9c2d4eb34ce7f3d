"""What a group's subscribers read when its week is replaced: the lessons that came and went.

One text for both ways a week arrives (a leader's document, «загрузить расписание», and the group's
feed, settings `timetable.feeds`), so a student cannot tell them apart and the catalog has it once.
"""

from __future__ import annotations

from collections.abc import Callable

from fsm_bot.services.timetable_upload import UploadPreview
from fsm_bot.timetable import Slot

DIGEST_LESSONS = 8  # added and removed lessons named in the subscribers' digest
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Translate = Callable[..., str]


def slot_line(t: Translate, slot: Slot, with_day: bool = False) -> str:
    """«09:00–10:30 Физика (лекция) · каждую неделю · подгр. 1», the weekday first if asked."""
    parts = [f"{slot.start:%H:%M}–{slot.end:%H:%M} {slot.subject[:60]}"]
    if slot.kind:
        parts[0] += f" ({slot.kind[:30]})"
    parts.append(t(f"timetable_upload.weeks.{slot.weeks.value}"))
    if slot.subgroup is not None:
        parts.append(t("timetable_upload.subgroup", number=slot.subgroup))
    line = " · ".join(parts)
    return f"{t(f'timetable.weekdays.{WEEKDAYS[slot.day]}')} {line}" if with_day else line


def week_digest(t: Translate, applied: UploadPreview) -> str:
    """Which lessons came and went (the first few of each), with the week's size."""
    upload, change = applied.upload, applied.difference
    lines = [t("timetable_upload.digest", group=upload.group, count=change.after)]
    for key, slots in (("digest_added", change.added), ("digest_removed", change.removed)):
        if slots:
            named = [f"• {slot_line(t, slot, with_day=True)}" for slot in slots[:DIGEST_LESSONS]]
            more = len(slots) - len(named)
            if more > 0:
                named.append(t("timetable_upload.more", count=more))
            lines.append(t(f"timetable_upload.{key}", lessons="\n".join(named)))
    return "\n\n".join(lines)
