"""The walk through every dialog state (tests/walk): its stream of people, and how each state is reached.

The stream: a group with a timetable, its headman and deputy, students, a stream admin, and newcomers,
all talking to one real bot through the sandbox. PATHS: how a person reaches each state from the menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from fsm_bot.storage.repositories.dialogs import IDLE
from fsm_bot.timetable import Slot
from tests.support.person import Outcome, Person
from tests.support.week import SLOTS

EXTRA_GROUPS = ["ИВТ-103", "ИВТ-104", "ПМИ-101", "ПМИ-102", "ФИЗ-101"]  # with ИВТ-101 and ИВТ-102 from seed()
EVENING_SLOTS = [
    Slot(day, start, end, subject, "лекция", "", "101")
    for day in range(7)
    for start, end, subject in (
        (time(15, 0), time(16, 30), "Вечерняя пара"),
        (time(16, 45), time(18, 15), "Поздняя пара"),
        (time(18, 30), time(20, 0), "Ночная пара"),
        (time(20, 15), time(21, 45), "Самая поздняя"),
    )
]
STUDENTS = [("Пётр", "Алексеев"), ("Вера", "Борисова"), ("Илья", "Васильев")]


@dataclass
class Stream:
    bot: Bot
    headman: Person
    deputy: Person
    students: list[Person]
    admin: Person  # a manager of the community: the stream admin, in no study group
    stranger: Person  # wrote to the community for the first time: not onboarded
    sandbox: SandboxClient

    def person(self, role: str) -> Person:
        return {"headman": self.headman, "deputy": self.deputy, "student": self.students[0], "admin": self.admin,
                "stranger": self.stranger}[role]  # fmt: skip

    def newcomer(self, first: str = "Новый", last: str = "Человек") -> Person:
        user = self.sandbox.add_user(first, last)
        return Person(self.sandbox, self.bot, user["id"], f"{first} {last}")


LEAVE_YES, LEAVE_NO = "Да, выйти", "Нет, остаться"  # dialog.leave_yes/leave_no in fsm_bot/locales/ru.yaml


def asks_to_leave(outcome: Outcome) -> bool:
    """Whether the answer is «… Выйти?» (fsm_bot/engine/leaving.py): the step holds unsaved work."""
    return any(
        button["action"].get("label") == LEAVE_YES
        for message in outcome.messages
        for row in (message.get("keyboard") or {}).get("buttons", [])
        for button in row
    )


def leave(person: Person) -> None:
    """Out of any dialog: «отмена», and once more when the dialog first asks whether to drop unsaved work."""
    for _ in range(2):
        if person.dialog() == (IDLE, IDLE):
            return
        person.say("отмена").assert_ordinary()
    assert person.dialog() == (IDLE, IDLE), f"«отмена» twice left {person.name} in {person.dialog()}"


def busier(database_url: str, community: int) -> None:
    """Seven study groups and eight lessons a day: more than an inline keyboard has rows for, one to a row."""
    database = Database(database_url)

    def write(session) -> None:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        for name in EXTRA_GROUPS:
            communities.study_group(community, name)
        # A chat bound to a group nobody of the walk is in, for «Отвязать беседу» (ИВТ-101's own broadcasts
        # would offer to pin in a chat of theirs, a path of its own).
        communities.bind_chat(community, communities.study_group(community, EXTRA_GROUPS[0]), 2_000_000_077)
        group = communities.study_group(community, "ИВТ-101")
        TimetableRepository(session, community).replace_slots(group.id, [*SLOTS, *EVENING_SLOTS])

    database.transaction(write)
    database.dispose()


def to_attendance_confirm(headman: Person) -> Outcome:
    """Today's first lesson marked with one absence without a reason, up to «Сохранить?»."""
    headman.say("учёт прогулов")
    headman.press("Сегодня")
    headman.press("09:00 Общая пара")
    headman.press("✅ Алексеев П.")
    headman.press("Готово (1)")
    confirm = headman.press("н — без уважительной")
    assert confirm.texts[-1].endswith("Сохранить?")
    return confirm


@dataclass(frozen=True)
class Press:
    """Press the button so labelled (or starting so) on the latest message that has it."""

    label: str


@dataclass(frozen=True)
class As:
    """A step taken by someone else (a deputy saving the same lesson meanwhile)."""

    who: str
    step: str | Press | Send


@dataclass(frozen=True)
class Send:
    """A document sent as a message of its own (a timetable file), with `text` beside it."""

    name: str
    content: bytes
    text: str = ""

    def by(self, person: Person) -> Outcome:
        return person.say(self.text, [person.sandbox.add_file(person.vk_id, self.name, self.content)])


Step = str | Press | As | Send


@dataclass(frozen=True)
class Path:
    state: str
    who: str  # a role of Stream.person
    steps: tuple[Step, ...]


def path(state: str, who: str, *steps: Step) -> Path:
    return Path(state, who, steps)


_BROADCAST = ("рассылка", "Завтра пары не будет", Press("Готово"))
_ATTENDANCE_MARKS = ("учёт прогулов", Press("Сегодня"), Press("09:00 Общая пара"))
_ATTENDANCE_REASONS = (*_ATTENDANCE_MARKS, Press("✅ Алексеев П."), Press("Готово (1)"))
_ATTENDANCE_WHOLE_DAY = ("учёт прогулов", Press("Сегодня"), Press("Весь день"), Press("Готово"))
_NOTICE = ("пропущу", Press("Завтра"), Press("Весь день"), Press("болезнь"))
_CHANGE = ("изменить расписание", Press("Завтра"), Press("09:00 Общая пара"))
_WEEK_FILE = Send(
    "week.yaml", 'groups:\n  ИВТ-101:\n    - {day: mon, start: "09:00", end: "10:30", subject: Новая}\n'.encode()
)
_HOMEWORK = ("новое задание", "Физика", "Задачи 1–5")  # the subject typed: the walk's day has more than 8
_HOMEWORK_GIVEN = (*_HOMEWORK, "завтра 18:00", Press("Отправить"), "задания", Press("✏️ Изменить"))
_QUEUE = ("открыть очередь", Press("Общая пара"), "00:00-23:59")
_ADMINS_NOBODY = ("рассылка админам", "Собрание в пятницу", Press("Готово"), Press("Далее"))

PATHS: dict[str, list[Path]] = {
    "broadcast": [
        path("compose", "headman", "рассылка"),
        path("audience", "headman", *_BROADCAST),
        path("pick", "headman", *_BROADCAST, Press("Выбрать студентов")),
        path("options", "headman", *_BROADCAST, Press("Моей группе")),
        path("options", "headman", *_BROADCAST, Press("Выбрать студентов"), Press("▫️ Алексеев"), Press("Готово (")),
        path("confirm", "headman", *_BROADCAST, Press("Моей группе"), Press("Далее")),
        path("compose", "headman", *_BROADCAST, Press("Моей группе"), Press("Далее"), Press("Изменить текст")),
        path("poll_answers", "headman", *_BROADCAST, Press("Моей группе"), Press("📊 Сделать опросом")),
        path("poll", "headman", *_BROADCAST, Press("Моей группе"), Press("📊 Сделать опросом"), "Да\nНет"),
        path(
            "poll_deadline",
            "headman",
            *_BROADCAST,
            Press("Моей группе"),
            Press("📊 Сделать опросом"),
            "Да\nНет",
            Press("Срок: нет"),
        ),
        # The tester's case: «Администраторам» is nobody (the admin is the only one), then other recipients.
        path("confirm", "admin", *_ADMINS_NOBODY),
        path("audience", "admin", *_ADMINS_NOBODY, Press("Выбрать других получателей")),
    ],
    "attendance": [
        path("day", "headman", "учёт прогулов"),
        path("lesson", "headman", "учёт прогулов", Press("Сегодня")),
        path("marks", "headman", *_ATTENDANCE_MARKS),
        path("reasons", "headman", *_ATTENDANCE_REASONS),
        # The tester's case: «Сохранить?» after giving the reasons.
        path("confirm", "headman", *_ATTENDANCE_REASONS, Press("н — без уважительной")),
        path("confirm", "headman", *_ATTENDANCE_MARKS, Press("Готово (0)")),
        path("marks", "headman", *_ATTENDANCE_REASONS, Press("н — без уважительной"), Press("Исправить")),
        # The deputy saves the same lesson while the headman looks at «Сохранить?».
        path(
            "conflict",
            "headman",
            *_ATTENDANCE_WHOLE_DAY,
            *(As("deputy", step) for step in (*_ATTENDANCE_WHOLE_DAY, Press("Сохранить"))),
            Press("Сохранить"),
        ),
    ],
    "absence_notice": [
        path("dates", "student", "пропущу"),
        path("lesson", "student", "пропущу", Press("Завтра")),
        path("reason", "student", *_NOTICE[:-1]),
        path("confirm", "student", *_NOTICE),
        path("confirm", "student", *_NOTICE[:-1], "проспал"),
        path("dates", "student", *_NOTICE, Press("Исправить")),
    ],
    "timetable_change": [
        path("day", "headman", "изменить расписание"),
        path("lesson", "headman", "изменить расписание", Press("Завтра")),
        path("action", "headman", *_CHANGE),
        path("value", "headman", *_CHANGE, Press("Другое время")),
        path("value", "headman", *_CHANGE, Press("Перенести на другой день")),
        path("confirm", "headman", *_CHANGE, Press("Другое время"), "12:00"),
        path("confirm", "headman", *_CHANGE, Press("Другая аудитория"), "214"),
        path("confirm", "headman", *_CHANGE, Press("Отменить пару")),
    ],
    "reminders": [
        path("menu", "student", "напоминания"),
        path("digest_time", "student", "напоминания", Press("🌙 Сводка на завтра")),
        path("lead", "student", "напоминания", Press("⏰ До первой пары")),
        path("menu", "student", "напоминания", Press("⏰ До каждой пары"), Press("15")),
    ],
    "onboarding": [
        path("group", "stranger", "регистрация"),
        path("name", "stranger", "регистрация", Press("ИВТ-101")),
        path("fix_name", "stranger", "регистрация", Press("ИВТ-101"), Press("Исправить")),
        path("name", "stranger", "регистрация", Press("ИВТ-101"), Press("Исправить"), "Иванова Анна"),
    ],
    "roster": [
        path("list", "headman", "список группы"),
        path("which", "headman", "список группы", "Алексеев Павел"),
        path("confirm", "headman", "список группы", "Тарасова Вера"),
    ],
    "timetable_upload": [
        path("file", "headman", "загрузить расписание"),
        path("preview", "headman", _WEEK_FILE),  # the file alone starts the dialog
        path("preview", "deputy", "загрузить расписание", _WEEK_FILE),
        path("file", "headman", _WEEK_FILE, Press("Другой файл")),
    ],
    "appoint": [
        path("group", "admin", "назначить"),
        path("person", "admin", "назначить", Press("ИВТ-101")),
        path("person", "admin", "назначить", Press("ИВТ-101"), "Алексеев"),
        path("role", "admin", "назначить", Press("ИВТ-101"), "Алексеев", Press("Алексеев Пётр")),
    ],
    "setup": [
        path("menu", "admin", "настройка"),
        path("new_name", "admin", "настройка", Press("➕ Новая группа")),
        path("group", "admin", "настройка", Press("✏️ Переименовать")),
        path("rename", "admin", "настройка", Press("✏️ Переименовать"), Press("ИВТ-101")),
        path("remove", "admin", "настройка", Press("🗑 Удалить группу"), Press("ИВТ-101")),
        path("person", "admin", "настройка", Press("🔀 Перевести студента")),
        path("person", "admin", "настройка", Press("🔀 Перевести студента"), "Алексеев"),
        path("target", "admin", "настройка", Press("🔀 Перевести студента"), "Алексеев", Press("Алексеев Пётр")),
        path("count", "admin", "настройка", Press("🔢 Подгруппы"), Press("ИВТ-101")),
        path("split", "admin", "настройка", Press("🔢 Подгруппы"), Press("ИВТ-101"), Press("2")),
        # The second subgroup: «Готово» saves the first (the walk repeats a path, so no toggle in it).
        path("split", "admin", "настройка", Press("🔢 Подгруппы"), Press("ИВТ-101"), Press("2"), Press("Готово (")),
        path("group", "admin", "настройка", Press("🔗 Отвязать беседу")),
        path("unbind", "admin", "настройка", Press("🔗 Отвязать беседу"), Press(EXTRA_GROUPS[0])),
    ],
    "homework_add": [
        path("subject", "headman", "новое задание"),
        path("text", "headman", "новое задание", Press("Физика")),
        path("due", "deputy", *_HOMEWORK),
        path("confirm", "headman", *_HOMEWORK, Press("⏭ К следующей паре")),
        path("confirm", "headman", *_HOMEWORK, "завтра 18:00"),
        path("subject", "headman", *_HOMEWORK, "завтра 18:00", Press("Исправить")),
    ],
    "homework_edit": [
        path("action", "headman", *_HOMEWORK_GIVEN),
        path("text", "headman", *_HOMEWORK_GIVEN, Press("Текст")),
        path("due", "headman", *_HOMEWORK_GIVEN, Press("Срок")),
        path("cancel", "headman", *_HOMEWORK_GIVEN, Press("Отменить задание")),
    ],
    "homework_reminders": [
        path("menu", "student", "напоминания о заданиях"),
        path("menu", "student", "задания", Press("🔔 Напоминания о сроках")),
    ],
    "queue_open": [
        path("subject", "headman", "открыть очередь"),
        path("window", "headman", *_QUEUE[:2]),
        path("helper", "deputy", *_QUEUE),
        path("confirm", "headman", *_QUEUE, Press("Без помощника")),
        path("subject", "headman", *_QUEUE, Press("Без помощника"), Press("Изменить")),
    ],
    "language": [
        path("choosing", "student", "язык"),
        path("choosing", "stranger", "язык"),
    ],
}
