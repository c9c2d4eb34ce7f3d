"""Homework and deadlines: «задания» for everyone in a group, giving and changing them for its leaders.

«задания»: the group's assignments still ahead, the nearest first, one message each with its files and a
«✅ Сделано» button (a done one stays in the list, marked, with «↩️ Не сделано»); leaders also get
«✏️ Изменить» on each and «➕ Новое задание» above.
«новое задание» (leaders): subject (the timetable's, or typed) -> text and files -> due time (typed, or
«к следующей паре», from the timetable) -> confirm -> every member of the group is told personally.
«✏️ Изменить» (leaders): the text, the due time, or cancel; everyone who was told hears of it.
«🔔 Напоминания о сроках»: a day, three hours or an hour before the due time (scheduler/homework_reminders.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows._context import Ctx
from fsm_bot.engine import Flow, Role, Texts, Transition, Unsaved, in_study_group
from fsm_bot.services.dates import day_label
from fsm_bot.services.homework import LEADS, Addressee, Assignment
from fsm_bot.services.inputs import clean_text

NEEDS_GROUP = in_study_group("timetable.no_group")
SUBJECT_BUTTONS = 8  # the timetable's subjects offered as buttons, two to a row
SUBJECT_LABEL = 40  # VK's longest button label


@dataclass
class Draft:
    """The assignment being written, saved with the dialog as JSON at every step."""

    subject: str = ""
    text: str = ""
    files: list[str] = field(default_factory=list)  # VK attachment strings
    due: str = ""  # ISO date and time, the community's time zone


@dataclass
class Editing:
    """Which assignment a leader is changing."""

    id: int = 0


listing = Flow(name="homework", description="homework.description", needs=[NEEDS_GROUP])
adding = Flow(
    name="homework_add",
    description="homework_add.description",
    role=Role.DEPUTY,
    in_menu=False,
    needs=[NEEDS_GROUP],
    states=["subject", "text", "due", "confirm"],
    transitions=[
        Transition("subject_chosen", "subject", "text"),
        Transition("written", "text", "due"),
        Transition("dated", "due", "confirm"),
        Transition("edit", "confirm", "subject"),
        Transition("redate", "confirm", "due"),  # the due time passed while the draft waited
    ],
    data=Draft,
    unsaved=Unsaved("homework_add.leave_warning", states=("due", "confirm")),
)
marking = Flow(name="homework_done", description="homework_done.description", in_menu=False, needs=[NEEDS_GROUP])
changing = Flow(
    name="homework_edit",
    description="homework_edit.description",
    role=Role.DEPUTY,
    in_menu=False,
    needs=[NEEDS_GROUP],
    states=["action", "text", "due", "cancel"],
    transitions=[
        Transition("edit_text", "action", "text"),
        Transition("edit_due", "action", "due"),
        Transition("cancel", "action", "cancel"),
    ],
    data=Editing,
)
reminding = Flow(
    name="homework_reminders",
    description="homework_reminders.description",
    in_menu=False,
    needs=[NEEDS_GROUP],
    states=["menu"],
)


# --- how an assignment reads


def when(t: Texts, due: datetime, today: datetime) -> str:
    """«Завтра 18:00», «Пт 05.12 10:45»."""
    return f"{day_label(t, due.date(), today.date())} {due:%H:%M}"


def assignment_text(t: Texts, assignment: Assignment, now: datetime) -> str:
    key = "homework.item_done" if assignment.done else "homework.item"
    return t(key, subject=assignment.subject, when=when(t, assignment.due_at, now), text=assignment.text).strip()


def _files(assignment: Assignment) -> str | None:
    return ",".join(assignment.files) or None


def _tell(ctx: Ctx, people: list[Addressee], key: str, assignment: Assignment, **values: str) -> None:
    """One message to each person, in their language."""
    now = ctx.services.homework.now()
    for person in people:
        theirs = ctx.t_for(person.locale)
        text = theirs(
            key,
            subject=assignment.subject,
            when=when(theirs, assignment.due_at, now),
            text=assignment.text,
            group=assignment.group,
            **values,
        )
        ctx.send_to(person.vk_id, text.strip())


# --- «задания»


@listing.on_start
def show_list(ctx: Ctx) -> None:
    homework = ctx.services.homework
    assignments = homework.upcoming()
    now = homework.now()
    header = [ctx.command_button(ctx.t("homework.reminders_button"), "homework_reminders", None, "secondary")]
    if homework.leads:
        header.insert(0, ctx.command_button(ctx.t("homework.add_button"), "homework_add", None, "positive"))
    title = ctx.t("homework.title", group=homework.group) if assignments else ctx.t("homework.none")
    ctx.reply(title, [header])
    for assignment in assignments:
        number = assignment.id
        if assignment.done:
            buttons = [ctx.command_button(ctx.t("homework.undo_button"), "homework_done", ("u", number), "secondary")]
        else:
            buttons = [ctx.command_button(ctx.t("homework.done_button"), "homework_done", ("d", number), "positive")]
        if homework.leads:
            edit = ctx.t("homework.edit_button")
            buttons.append(ctx.command_button(edit, "homework_edit", ("e", number), "secondary"))
        ctx.reply(assignment_text(ctx.t, assignment, now), [buttons], attachment=_files(assignment))


# --- «✅ Сделано» / «↩️ Не сделано»


@marking.on_start
def mark(ctx: Ctx) -> None:
    match ctx.choice:
        case ("d" | "u" as verdict, int(homework_id)):
            marked = ctx.services.homework.mark_done(homework_id, verdict == "d")
        case _:
            marked = None
    if marked is None:
        ctx.reply(ctx.t("homework_done.not_yours"))
        return
    ctx.reply(ctx.t("homework_done.done" if marked.done else "homework_done.undone", subject=marked.subject))


# --- «новое задание»


@adding.asks("subject")
def ask_subject(ctx: Ctx[Draft]) -> None:
    subjects = ctx.services.timetable.subjects()[:SUBJECT_BUTTONS]
    options = [ctx.option(subject[:SUBJECT_LABEL], ("s", number)) for number, subject in enumerate(subjects)]
    rows = [options[start : start + 2] for start in range(0, len(options), 2)]
    ctx.ask(ctx.t("homework_add.ask_subject" if subjects else "homework_add.ask_subject_typed"), rows)


@adding.receives("subject")
def got_subject(ctx: Ctx[Draft]) -> None:
    subjects = ctx.services.timetable.subjects()[:SUBJECT_BUTTONS]
    match ctx.choice:
        case ("s", int(number)) if number < len(subjects):
            subject = subjects[number]
        case None:
            subject = clean_text(ctx.text)
        case _:  # a button of a list that has changed since
            subject = ""
    if not subject:
        ctx.ask_again(ctx.t("homework_add.bad_subject"))
        return
    if len(subject) > 200:
        ctx.ask_again(ctx.t("homework_add.long_subject"))
        return
    ctx.data.subject = subject
    ctx.go("subject_chosen")


@adding.asks("text")
def ask_text(ctx: Ctx[Draft]) -> None:
    ctx.ask(ctx.t("homework_add.ask_text", subject=ctx.data.subject))


@adding.receives("text")
def got_text(ctx: Ctx[Draft]) -> None:
    files = ctx.services.homework.read_files(ctx.event.attachments)
    text = "\n".join([ctx.text, *[link for link in files.links if link not in ctx.text]]).strip()
    if files.too_many:
        ctx.ask_again(ctx.t("homework_add.too_many_files"))
        return
    if not text and not files.strings:
        ctx.ask_again(ctx.t("homework_add.empty"))
        return
    if len(text) > 3000:
        ctx.ask_again(ctx.t("homework_add.long_text"))
        return
    ctx.data.text, ctx.data.files = text, list(files.strings)
    ctx.go("written")


def ask_due_question(ctx: Ctx, subject: str) -> None:
    """The due time's question, with «к следующей паре» when the timetable has that subject ahead."""
    homework = ctx.services.homework
    upcoming = homework.next_lesson(subject)
    rows = []
    if upcoming is not None:
        rows.append([ctx.option(ctx.t("homework_add.next_lesson", when=when(ctx.t, upcoming, homework.now())), "next")])
    ctx.ask(ctx.t("homework_add.ask_due"), rows)


def due_answer(ctx: Ctx, subject: str) -> datetime | None:
    """The due time the answer gives: the next lesson's start, or a typed date and time; None if neither."""
    homework = ctx.services.homework
    if ctx.button == "next":
        return homework.next_lesson(subject)
    return homework.parse_due(ctx.text) if ctx.text else None


@adding.asks("due")
def ask_due(ctx: Ctx[Draft]) -> None:
    ask_due_question(ctx, ctx.data.subject)


@adding.receives("due")
def got_due(ctx: Ctx[Draft]) -> None:
    due = due_answer(ctx, ctx.data.subject)
    if due is None:
        ctx.ask_again(ctx.t("homework_add.bad_due"))
        return
    ctx.data.due = due.isoformat()
    ctx.go("dated")


@adding.asks("confirm")
def ask_confirm(ctx: Ctx[Draft]) -> None:
    draft, now = ctx.data, ctx.services.homework.now()
    summary = ctx.t(
        "homework_add.summary", subject=draft.subject, when=when(ctx.t, datetime.fromisoformat(draft.due), now)
    )
    if draft.text:
        summary += "\n" + draft.text
    if draft.files:
        summary += "\n" + ctx.t("homework_add.files", count=len(draft.files))
    ctx.reply(summary, attachment=",".join(draft.files) or None)
    ctx.ask(
        ctx.t("homework_add.ask_send"),
        [[ctx.option(ctx.t("homework_add.send"), "send", "positive"), ctx.option(ctx.t("homework_add.edit"), "edit")]],
    )


@adding.receives("confirm")
def got_confirm(ctx: Ctx[Draft]) -> None:
    if ctx.button == "edit":
        ctx.go("edit")
        return
    if ctx.button != "send":
        ctx.ask_again()
        return
    homework, draft = ctx.services.homework, ctx.data
    due = datetime.fromisoformat(draft.due)
    if due <= homework.now():
        ctx.reply(ctx.t("homework_add.due_passed"))
        ctx.go("redate")
        return
    assignment, told = homework.add(draft.subject, draft.text, tuple(draft.files), due)
    now = homework.now()
    for person in told:
        theirs = ctx.t_for(person.locale)
        text = theirs("homework.new", group=assignment.group) + "\n" + assignment_text(theirs, assignment, now)
        button = ctx.command_button(theirs("homework.done_button"), "homework_done", ("d", assignment.id), "positive")
        ctx.send_to(person.vk_id, text, [[button]], attachment=_files(assignment))
    ctx.finish(ctx.t("homework_add.sent", count=len(told)))


# --- «✏️ Изменить»


@changing.on_start
def begin_change(ctx: Ctx[Editing]) -> None:
    match ctx.choice:
        case ("e", int(homework_id)) if ctx.services.homework.for_leader(homework_id) is not None:
            ctx.data.id = homework_id
        case _:
            ctx.finish(ctx.t("homework_edit.not_yours"))


def _changed(ctx: Ctx[Editing]) -> Assignment | None:
    """The assignment being changed, still this leader's and not cancelled; otherwise the dialog ends."""
    found = ctx.services.homework.for_leader(ctx.data.id)
    if found is None:
        ctx.finish(ctx.t("homework_edit.not_yours"))
    return found


@changing.asks("action")
def ask_action(ctx: Ctx[Editing]) -> None:
    assignment = _changed(ctx)
    if assignment is None:
        return
    ctx.ask(
        assignment_text(ctx.t, assignment, ctx.services.homework.now()) + "\n\n" + ctx.t("homework_edit.ask_action"),
        [
            [ctx.option(ctx.t("homework_edit.text"), "text"), ctx.option(ctx.t("homework_edit.due"), "due")],
            [ctx.option(ctx.t("homework_edit.cancel"), "cancel", "negative")],
        ],
    )


@changing.receives("action")
def got_action(ctx: Ctx[Editing]) -> None:
    if ctx.button == "text":
        ctx.go("edit_text")
    elif ctx.button == "due":
        ctx.go("edit_due")
    elif ctx.button == "cancel":
        ctx.go("cancel")
    else:
        ctx.ask_again()


@changing.asks("text")
def ask_new_text(ctx: Ctx[Editing]) -> None:
    if _changed(ctx) is not None:
        ctx.ask(ctx.t("homework_edit.ask_text"))


@changing.receives("text")
def got_new_text(ctx: Ctx[Editing]) -> None:
    text = ctx.text
    if not text:
        ctx.ask_again(ctx.t("homework_add.empty"))
        return
    if len(text) > 3000:
        ctx.ask_again(ctx.t("homework_add.long_text"))
        return
    changed = ctx.services.homework.change_text(ctx.data.id, text)
    if changed is None:
        ctx.finish(ctx.t("homework_edit.not_yours"))
        return
    assignment, told = changed
    _tell(ctx, told, "homework.changed_text", assignment)
    ctx.finish(ctx.t("homework_edit.saved", count=len(told)))


@changing.asks("due")
def ask_new_due(ctx: Ctx[Editing]) -> None:
    assignment = _changed(ctx)
    if assignment is not None:
        ask_due_question(ctx, assignment.subject)


@changing.receives("due")
def got_new_due(ctx: Ctx[Editing]) -> None:
    before = _changed(ctx)
    if before is None:
        return
    due = due_answer(ctx, before.subject)
    if due is None:
        ctx.ask_again(ctx.t("homework_add.bad_due"))
        return
    changed = ctx.services.homework.change_due(ctx.data.id, due)
    if changed is None:
        ctx.finish(ctx.t("homework_edit.not_yours"))
        return
    assignment, told = changed
    now = ctx.services.homework.now()
    for person in told:
        theirs = ctx.t_for(person.locale)
        text = theirs(
            "homework.changed_due",
            subject=assignment.subject,
            when=when(theirs, assignment.due_at, now),
            before=when(theirs, before.due_at, now),
        )
        ctx.send_to(person.vk_id, text)
    ctx.finish(ctx.t("homework_edit.saved", count=len(told)))


@changing.asks("cancel")
def ask_cancel(ctx: Ctx[Editing]) -> None:
    assignment = _changed(ctx)
    if assignment is not None:
        ctx.ask(
            ctx.t("homework_edit.ask_cancel", subject=assignment.subject),
            [[ctx.option(ctx.t("homework_edit.yes_cancel"), "yes", "negative")]],
        )


@changing.receives("cancel")
def got_cancel(ctx: Ctx[Editing]) -> None:
    if ctx.button != "yes":
        ctx.ask_again()
        return
    cancelled = ctx.services.homework.cancel(ctx.data.id)
    if cancelled is None:
        ctx.finish(ctx.t("homework_edit.not_yours"))
        return
    assignment, told = cancelled
    _tell(ctx, told, "homework.cancelled", assignment)
    ctx.finish(ctx.t("homework_edit.cancelled", count=len(told)))


# --- «🔔 Напоминания о сроках»


@reminding.asks("menu")
def ask_leads(ctx: Ctx) -> None:
    chosen = ctx.services.homework.reminder_leads()
    lines = [ctx.t(f"homework_reminders.lead.{kind.value}") for kind in LEADS if kind in chosen]
    text = ctx.t("homework_reminders.chosen", leads=", ".join(lines)) if lines else ctx.t("homework_reminders.none")
    buttons = [
        ctx.option(
            ctx.t("homework_reminders.on_mark" if kind in chosen else "homework_reminders.off_mark",
                  lead=ctx.t(f"homework_reminders.lead.{kind.value}")),
            kind.value,
            "positive" if kind in chosen else "secondary",
        )
        for kind in LEADS
    ]  # fmt: skip
    ctx.ask(text, [buttons, [ctx.option(ctx.t("homework_reminders.done"), "done", "primary")]])


@reminding.receives("menu")
def got_lead(ctx: Ctx) -> None:
    choice = ctx.button
    kinds = {kind.value: kind for kind in LEADS}
    if choice in kinds:
        on = ctx.services.homework.toggle_reminder(kinds[choice])
        lead = ctx.t(f"homework_reminders.lead.{choice}")
        ctx.ask_again(ctx.t("homework_reminders.turned_on" if on else "homework_reminders.turned_off", lead=lead))
    else:  # «Готово», or something typed: the choice is saved as it is
        ctx.finish(ctx.t("homework_reminders.bye"))
