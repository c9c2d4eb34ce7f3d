"""«загрузить расписание»: a leader sends the group's timetable as a YAML or .ics document.

file -> preview (lessons per weekday with their weeks, the semester, what changes) -> «Применить».
A .yaml/.yml/.ics document sent with no dialog open starts it too, and is then the first answer. A file
with mistakes is answered with them, each with its line (as `fsm-bot timetable import` names them), and
the dialog waits for another. «Применить» replaces the group's week in the step's own transaction; the
engine re-plans reminders after the commit, and the group's subscribers get a digest of the change.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Transition, in_study_group
from fsm_bot.services.timetable import Parity, Slot
from fsm_bot.services.timetable_digest import slot_line, week_digest
from fsm_bot.services.timetable_upload import (
    UPLOAD_EXTENSIONS,
    TimetableFileError,
    TimetableUpload,
    UploadPreview,
    UploadRefused,
)

FULL_LIST = 40  # up to this many weekly lessons the preview lists each; past it, counts per weekday
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Upload:
    """The file read so far: its name and the group's week as our YAML (TimetableUpload.kept)."""

    title: str = ""
    week: str = ""


flow = Flow(
    name="timetable_upload",
    description="timetable_upload.description",
    role=Role.DEPUTY,
    takes_documents=UPLOAD_EXTENSIONS,
    needs=[in_study_group("timetable_upload.no_group")],
    in_menu=False,
    states=["file", "preview"],
    transitions=[
        Transition("read", "file", "preview"),
        Transition("read", "preview", "preview"),  # another file sent instead of «Применить»
        Transition("again", "preview", "file"),
    ],
    data=Upload,
)


def _upload(ctx: Ctx[Upload]) -> TimetableUpload:
    return TimetableUpload.from_kept(ctx.data.week, ctx.data.title, ctx.member.study_group or "")


def _read(ctx: Ctx[Upload]) -> str | None:
    """Read the message's file into the draft; None when it was read, else what to tell the leader."""
    try:
        upload = ctx.services.timetable.read_upload(ctx.event.attachments)
    except UploadRefused as refused:
        return ctx.t(f"timetable_upload.{refused.key}", **refused.values)
    except TimetableFileError as error:
        return ctx.t("timetable_upload.mistakes", count=len(error.errors), errors=str(error))
    if not upload.slots:
        return ctx.t("timetable_upload.empty", title=upload.title, group=upload.group)
    ctx.data.title, ctx.data.week = upload.title, upload.kept()
    if upload.other_groups:
        ctx.reply(ctx.t("timetable_upload.other_groups", groups=", ".join(upload.other_groups)[:300]))
    return None


# --- file


@flow.asks("file")
def ask_file(ctx: Ctx[Upload]) -> None:
    ctx.ask(
        ctx.t("timetable_upload.ask_file", group=ctx.member.study_group),
        [[ctx.option(ctx.t("timetable_upload.keep"), "keep", "negative")]],
    )


@flow.receives("file")
def got_file(ctx: Ctx[Upload]) -> None:
    if ctx.button == "keep":
        ctx.finish(ctx.t("timetable_upload.kept"))
        return
    problem = _read(ctx)
    if problem is not None:
        ctx.ask_again(problem)
        return
    ctx.go("read")


# --- preview


@flow.asks("preview")
def ask_preview(ctx: Ctx[Upload]) -> None:
    preview = ctx.services.timetable.preview(_upload(ctx))
    ctx.ask(
        _preview_text(ctx, preview),
        [
            [
                ctx.option(ctx.t("timetable_upload.apply"), "apply", "positive"),
                ctx.option(ctx.t("timetable_upload.another"), "again"),
            ]
        ],
    )


@flow.receives("preview")
def got_preview(ctx: Ctx[Upload]) -> None:
    if ctx.button == "again":
        ctx.go("again")
    elif ctx.button == "apply":
        _apply(ctx)
    elif ctx.button is None and ctx.event.attachments and ctx.services.timetable.has_document(ctx.event.attachments):
        problem = _read(ctx)
        if problem is None:
            ctx.go("read")
        else:  # the file sent instead of the previewed one has mistakes: wait for a corrected one
            ctx.reply(problem)
            ctx.go("again")
    else:
        ctx.ask_again(ctx.t("timetable_upload.press"))


def _apply(ctx: Ctx[Upload]) -> None:
    timetable = ctx.services.timetable
    try:
        applied = timetable.replace_week(_upload(ctx))
    except PermissionError:
        ctx.finish(ctx.t("timetable_upload.not_yours"))
        return
    subscribers = [vk_id for vk_id in timetable.subscribers_for(None) if vk_id != ctx.member.vk_id]
    for vk_id, locale in ctx.services.locales_of(subscribers).items():  # each in their language
        theirs = ctx.t_for(locale)
        week = [[ctx.command_button(theirs("timetable.this_week"), "timetable", "week", "primary")]]
        ctx.send_to(vk_id, week_digest(theirs, applied), week)
    ctx.finish(
        ctx.t(
            "timetable_upload.done", group=applied.upload.group, lessons=applied.difference.after, told=len(subscribers)
        )
    )


# --- texts


def _weeks(ctx: Ctx[Upload], weeks: Parity) -> str:
    return ctx.t(f"timetable_upload.weeks.{weeks.value}")


def _slot_line(ctx: Ctx[Upload], slot: Slot, with_day: bool = False) -> str:
    return slot_line(ctx.t, slot, with_day)


def _week_text(ctx: Ctx[Upload], slots: tuple[Slot, ...]) -> str:
    blocks = []
    for day, key in enumerate(WEEKDAYS):
        lessons = sorted((slot for slot in slots if slot.day == day), key=lambda slot: (slot.start, slot.subject))
        if not lessons:
            continue
        name = ctx.t(f"timetable.weekdays.{key}")
        if len(slots) <= FULL_LIST:
            heading = ctx.t("timetable_upload.day_heading", day=name)
            lines = (ctx.t("timetable_upload.slot_line", slot=_slot_line(ctx, slot)) for slot in lessons)
            blocks.append("\n".join([heading, *lines]))
        else:
            counts = {weeks: sum(1 for slot in lessons if slot.weeks is weeks) for weeks in Parity}
            split = ", ".join(
                ctx.t("timetable_upload.weeks_count", weeks=_weeks(ctx, weeks), count=count)
                for weeks, count in counts.items()
                if count
            )
            blocks.append(ctx.t("timetable_upload.day_count", day=name, count=len(lessons), split=split))
    return "\n".join(blocks)


def _semester_text(ctx: Ctx[Upload], preview: UploadPreview) -> str:
    semester = preview.semester
    if semester is None:
        return ctx.t("timetable_upload.no_semester")
    text = ctx.t(
        "timetable_upload.semester",
        start=semester.start.strftime("%d.%m.%Y"),
        end=semester.end.strftime("%d.%m.%Y"),
        parity=ctx.t(f"timetable.parity.{semester.first_week.value}"),
    )
    text += " " + ctx.t("timetable_upload.this_week", parity=ctx.t(f"timetable.parity.{preview.this_week.value}"))
    if preview.semester_kept_over_file:
        text += "\n" + ctx.t("timetable_upload.semester_kept")
    return text


def _preview_text(ctx: Ctx[Upload], preview: UploadPreview) -> str:
    upload, change = preview.upload, preview.difference
    parts = [
        ctx.t("timetable_upload.preview_title", group=upload.group, title=upload.title, count=change.after),
        _week_text(ctx, upload.slots),
        _semester_text(ctx, preview),
    ]
    if change.before == 0:
        parts.append(ctx.t("timetable_upload.first_time"))
    elif change.same:
        parts.append(ctx.t("timetable_upload.same", count=change.after))
    else:
        parts.append(
            ctx.t(
                "timetable_upload.changes",
                before=change.before,
                after=change.after,
                added=len(change.added),
                removed=len(change.removed),
                kept=change.kept,
            )
        )
    if preview.dropped_changes:
        parts.append(ctx.t("timetable_upload.dropped_changes", count=preview.dropped_changes))
    parts.append(ctx.t("timetable_upload.confirm"))
    return "\n\n".join(parts)
