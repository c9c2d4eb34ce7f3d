"""Numbers and people in Russian sentences: the words agree with the count (1, 2, 5, 21) and with the person's
gender, as testers read them (issue 20). The dialogs' own tests read one count each end to end; here, every form."""

from __future__ import annotations

from pathlib import Path

import pytest

import flows
from fsm_bot.members.info import MemberInfo
from fsm_bot.services.broadcasts import preview_of
from fsm_bot.services.community import headman_sex
from fsm_bot.storage.models import Role
from fsm_bot.texts import Texts

RU = Texts.load("ru", [Path(flows.__file__).parent / "locales"])
COUNTS = (1, 2, 5, 21)


def forms(key: str, **values: object) -> list[str]:
    name = next(name for name, value in values.items() if value is None)
    return [RU(key, **{**values, name: count}) for count in COUNTS]


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        (
            "resend.queued",
            {"id": 7, "count": None},
            [
                "Рассылка №7 отправляется повторно 1 получателю, до которого не дошла.",
                "Рассылка №7 отправляется повторно 2 получателям, до которых не дошла.",
                "Рассылка №7 отправляется повторно 5 получателям, до которых не дошла.",
                "Рассылка №7 отправляется повторно 21 получателю, до которого не дошла.",
            ],
        ),
        (
            "broadcast.sent",
            {"id": 7, "count": None},
            [
                "Рассылка №7 отправляется 1 получателю. Отчёт выше обновляется сам.",
                "Рассылка №7 отправляется 2 получателям. Отчёт выше обновляется сам.",
                "Рассылка №7 отправляется 5 получателям. Отчёт выше обновляется сам.",
                "Рассылка №7 отправляется 21 получателю. Отчёт выше обновляется сам.",
            ],
        ),
        (
            "broadcast.summary",
            {"audience": "ИВТ-101", "count": None},
            [
                "Сообщение получит 1 человек (ИВТ-101).",
                "Сообщение получат 2 человека (ИВТ-101).",
                "Сообщение получат 5 человек (ИВТ-101).",
                "Сообщение получит 21 человек (ИВТ-101).",
            ],
        ),
        (
            "broadcast.summary_chosen",
            {"count": None},
            [
                "Сообщение получит 1 выбранный студент.",
                "Сообщение получат 2 выбранных студента.",
                "Сообщение получат 5 выбранных студентов.",
                "Сообщение получит 21 выбранный студент.",
            ],
        ),
        (
            "broadcast.audience_chosen",
            {"count": None},
            ["1 выбранный студент", "2 выбранных студента", "5 выбранных студентов", "21 выбранный студент"],
        ),
        ("broadcast.media.doc", {"count": None}, ["1 документ", "2 документа", "5 документов", "21 документ"]),
        (
            "timetable_change.done",
            {"told": None},
            [
                "Готово, расписание изменено. Сообщение получил 1 подписчик.",
                "Готово, расписание изменено. Сообщение получили 2 подписчика.",
                "Готово, расписание изменено. Сообщение получили 5 подписчиков.",
                "Готово, расписание изменено. Сообщение получил 21 подписчик.",
            ],
        ),
        (
            "timetable_upload.done",
            {"group": "ИВТ-101", "lessons": 12, "told": None},
            [
                "Готово: расписание ИВТ-101 заменено, пар в неделю 12. Сообщение получил 1 подписчик.",
                "Готово: расписание ИВТ-101 заменено, пар в неделю 12. Сообщение получили 2 подписчика.",
                "Готово: расписание ИВТ-101 заменено, пар в неделю 12. Сообщение получили 5 подписчиков.",
                "Готово: расписание ИВТ-101 заменено, пар в неделю 12. Сообщение получил 21 подписчик.",
            ],
        ),
        (
            "absence_notice.too_long",
            {"days": None},
            [
                "Слишком длинный период: не больше 1 дня за раз.",
                "Слишком длинный период: не больше 2 дней за раз.",
                "Слишком длинный период: не больше 5 дней за раз.",
                "Слишком длинный период: не больше 21 дня за раз.",
            ],
        ),
        (
            "roster.understood",
            {"group": "ИВТ-101", "found": 1, "count": None},
            [
                "Понял список группы ИВТ-101: 1 человек, из них в сообществе 1.",
                "Понял список группы ИВТ-101: 2 человека, из них в сообществе 1.",
                "Понял список группы ИВТ-101: 5 человек, из них в сообществе 1.",
                "Понял список группы ИВТ-101: 21 человек, из них в сообществе 1.",
            ],
        ),
        (
            "roster.saved",
            {"group": "ИВТ-101", "offline": 0, "expected": 0, "placed": None},
            [
                f"Список группы ИВТ-101 сохранён: в группе {n} сообщества, без VK 0, ждём вступления по ссылке 0."
                for n in ("1 участник", "2 участника", "5 участников", "21 участник")
            ],
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_noun_agrees_with_the_number(key: str, values: dict, expected: list[str]) -> None:
    assert forms(key, **values) == expected


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        (
            "onboarding.sent",
            {"group": "ИВТ-101"},
            [
                "Заявка отправлена старосте группы ИВТ-101. Я напишу, когда она подтвердит.",
                "Заявка отправлена старосте группы ИВТ-101. Я напишу, когда он подтвердит.",
                "Заявка отправлена старосте группы ИВТ-101. Я напишу, когда староста подтвердит.",
            ],
        ),
        (
            "absence_notice.sent",
            {},
            [
                "Отправлено старосте. Я напишу, когда она ответит.",
                "Отправлено старосте. Я напишу, когда он ответит.",
                "Отправлено старосте. Я напишу, когда староста ответит.",
            ],
        ),
        (
            "setup.told_moved",
            {"group": "ИВТ-102"},
            [
                "Администратор перевела вас в группу ИВТ-102.",
                "Администратор перевёл вас в группу ИВТ-102.",
                "Администратор перевёл вас в группу ИВТ-102.",
            ],
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_verb_agrees_with_the_person(key: str, values: dict, expected: list[str]) -> None:
    assert [RU(key, **values, sex=sex) for sex in (1, 2, 0)] == expected


def leader(role: Role, sex: int) -> MemberInfo:
    return MemberInfo(1, "Анна", "Смирнова", role, "ИВТ-101", None, "active", True, sex=sex)


def test_the_headman_is_whom_the_sentence_is_about() -> None:
    assert headman_sex([leader(Role.DEPUTY, 2), leader(Role.HEADMAN, 1)]) == 1
    assert headman_sex([leader(Role.DEPUTY, 2)]) == 2
    assert headman_sex([leader(Role.DEPUTY, 2), leader(Role.DEPUTY, 1)]) == 0  # two deputies: «староста»
    assert headman_sex([]) == 0


def test_a_broadcast_without_text_is_named_by_its_attachments() -> None:
    assert preview_of(RU, [{"text": "", "attachment": "photo1_2_key"}]) == "фото"
    assert preview_of(RU, [{"text": "", "attachment": "doc1_2,doc-1_3,photo1_4,wall-1_5"}]) == (
        "2 документа, фото, вложение"
    )
    assert preview_of(RU, [{"text": "", "forward": '{"peer_id": 1}'}]) == "пересланные сообщения"
    assert preview_of(RU, [{"text": "Завтра  пар\nнет"}]) == "Завтра пар нет"


EN = Texts.load("en", [Path(flows.__file__).parent / "locales"])


@pytest.mark.parametrize(
    ("key", "values", "one", "other"),
    [
        (
            "resend.queued",
            {"id": 7},
            "Announcement #7 is being resent to 1 recipient who didn't get it.",
            "Announcement #7 is being resent to 5 recipients who didn't get it.",
        ),
        (
            "broadcast.summary",
            {"audience": "ИВТ-101"},
            "1 person will get the message (ИВТ-101).",
            "5 people will get the message (ИВТ-101).",
        ),
        (
            "broadcast.summary_chosen",
            {},
            "1 selected student will get the message.",
            "5 selected students will get the message.",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and "." in value and " " not in value else "",
)
def test_in_english_the_noun_agrees_with_the_number_too(key: str, values: dict, one: str, other: str) -> None:
    assert [EN(key, **values, count=count) for count in (1, 5)] == [one, other]


def test_in_english_the_subscribers_told_and_the_attachments_are_counted() -> None:
    assert [EN("timetable_change.done", told=count) for count in (1, 2)] == [
        "Done, the timetable is changed. 1 subscriber got the message.",
        "Done, the timetable is changed. 2 subscribers got the message.",
    ]
    assert EN("onboarding.sent", group="ИВТ-101", sex=1) == (
        "Request sent to the group leader of ИВТ-101. I'll let you know when they approve it."
    )
    assert preview_of(EN, [{"text": "", "attachment": "doc1_2,doc-1_3,photo1_4,wall-1_5"}]) == (
        "2 documents, photo, attachment"
    )
    assert preview_of(EN, [{"text": "", "forward": '{"peer_id": 1}'}]) == "forwarded messages"
