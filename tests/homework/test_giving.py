"""A headman gives ИВТ-101 an assignment; its students are told, see it in «задания» and mark it done.

The real bot, vk_api over HTTP, the sandbox as VK, on both databases. ИВТ-102's student sees nothing of it,
and a button of it forged by their client is refused.
"""

from __future__ import annotations

from datetime import time

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import MemberRepository
from fsm_bot.storage.repositories.homework import HomeworkRepository
from tests.homework.conftest import Groups
from tests.homework.steps import give, in_days, labels, next_fizika, payload, send, told, when
from tests.support.talk import bot_texts, press, say
from tests.support.waiting import settled

PHOTO = b"\x89PNG\r\n\x1a\n task"


def test_a_headman_gives_an_assignment_with_a_photo_by_the_next_lesson_and_the_group_is_told(
    sandbox: SandboxClient, groups: Groups
) -> None:
    bot = groups.bot
    [subject_question] = say(sandbox, groups.headman, "новое задание")
    assert subject_question["text"] == "По какому предмету задание? Выберите из расписания или напишите название."
    assert labels(subject_question) == [
        "Нечётная пара", "Общая пара", "Физика", "Химия", "Чётная пара", "Назад", "Отмена"
    ]  # fmt: skip
    press(sandbox, groups.headman, subject_question, "Отмена")

    photo = sandbox.add_file(groups.headman, "task.png", PHOTO, kind="photo")
    due = next_fizika()
    summary, question = give(sandbox, groups.headman, "Физика", "Решить задачи 1–5", None, [photo])
    assert summary["text"] == f"Предмет: Физика\nСрок: {when(due)}\nРешить задачи 1–5\n📎 1 файл"
    assert [item["type"] for item in summary["attachments"]] == ["photo"]
    assert question["text"] == "Отправить задание всей группе?"
    assert send(sandbox, groups.headman, question) == "Задание отправлено, его получили 3 человека."

    expected = f"📚 Новое задание для ИВТ-101:\n📌 Физика · срок: {when(due)}\nРешить задачи 1–5"
    for person in groups.told:
        [notice] = told(sandbox, person, "📚 Новое задание")
        assert notice["text"] == expected
        assert [item["type"] for item in notice["attachments"]] == ["photo"]
        assert notice["attachments"][0]["photo"]["id"] == photo["photo"]["id"]
        assert labels(notice) == ["✅ Сделано"]

    # A student's «задания»: the assignment with its photo, and a button to mark it done.
    header, item = say(sandbox, groups.first, "задания", expect=2)
    assert header["text"] == "📚 Задания ИВТ-101, ближайшие сроки первыми:"
    assert labels(header) == ["🔔 Напоминания о сроках"]  # no «➕ Новое задание» for a student
    assert item["text"] == f"📌 Физика · срок: {when(due)}\nРешить задачи 1–5"
    assert [attachment["type"] for attachment in item["attachments"]] == ["photo"]
    assert labels(item) == ["✅ Сделано"]

    [marked] = press(sandbox, groups.first, item, "✅ Сделано")
    assert marked["text"] == "✅ Физика: отмечено как сделанное, напоминаний о нём больше не будет."
    _, item = say(sandbox, groups.first, "задания", expect=2)
    assert item["text"] == f"✅ Физика · срок: {when(due)} · сделано\nРешить задачи 1–5"
    assert labels(item) == ["↩️ Не сделано"]
    [unmarked] = press(sandbox, groups.first, item, "↩️ Не сделано")
    assert unmarked["text"] == "↩️ Физика: снова в списке несделанных."

    # Вера has not marked it: hers is still to do.
    _, hers = say(sandbox, groups.second, "задания", expect=2)
    assert hers["text"].startswith("📌 Физика")

    # The headman sees it with «✏️ Изменить», and the button to give another.
    header, item = say(sandbox, groups.headman, "задания", expect=2)
    assert labels(header) == ["➕ Новое задание", "🔔 Напоминания о сроках"]
    assert labels(item) == ["✅ Сделано", "✏️ Изменить"]
    settled(bot, sandbox)
    assert not [text for text in bot_texts(sandbox, groups.other) if text.startswith("📚")]


def test_another_groups_student_sees_nothing_and_a_forged_button_is_refused(
    sandbox: SandboxClient, groups: Groups
) -> None:
    bot = groups.bot
    _, question = give(sandbox, groups.headman, "Общая пара", "Прочитать главу 3", f"{in_days(2):%d.%m} 18:00")
    send(sandbox, groups.headman, question)
    [notice] = told(sandbox, groups.first, "📚 Новое задание")

    [nothing] = say(sandbox, groups.other, "задания")
    assert nothing["text"] == "Заданий с будущим сроком нет."

    forged = payload(notice, "✅ Сделано")  # ИВТ-101's button, sent by a modified client of ИВТ-102's student
    sent = sandbox.send(groups.other, "✅ Сделано", payload=forged)
    [refused] = sandbox.wait_for_messages(groups.other, 1, since=sent["message_id"], timeout=15)
    assert refused["text"] == "Это задание не вашей группы или уже отменено."
    [edit] = [dict(forged, b=["e", forged["b"][1]], c="homework_edit")]
    sent = sandbox.send(groups.other, "✏️ Изменить", payload=edit)
    [refused] = sandbox.wait_for_messages(groups.other, 1, since=sent["message_id"], timeout=15)
    assert refused["text"].startswith("Эта команда доступна только")

    def marks(session):  # type: ignore[no-untyped-def]
        other = MemberRepository(session, bot.community_id).get(groups.other)
        return HomeworkRepository(session, bot.community_id).done_of(other.id, [forged["b"][1]])

    assert bot.database.transaction(marks) == set()


def test_a_deputy_gives_one_a_student_cannot_and_a_leader_demoted_mid_way_is_stopped(
    sandbox: SandboxClient, groups: Groups
) -> None:
    bot = groups.bot
    due = in_days(3, time(9, 0))
    summary, question = give(
        sandbox, groups.deputy, "Английский", "Эссе на 200 слов", f"{due:%d.%m} 09:00", typed_subject=True
    )
    assert summary["text"] == f"Предмет: Английский\nСрок: {when(due)}\nЭссе на 200 слов"
    assert send(sandbox, groups.deputy, question) == "Задание отправлено, его получили 3 человека."
    for person in (groups.headman, groups.first, groups.second):
        [notice] = told(sandbox, person, "📚 Новое задание")
        assert notice["text"].endswith(f"📌 Английский · срок: {when(due)}\nЭссе на 200 слов")

    [refused] = say(sandbox, groups.first, "новое задание")
    assert refused["text"].startswith("Эта команда доступна только")

    # The privilege is checked at every step: a deputy demoted while writing cannot send.
    [subject_question] = say(sandbox, groups.deputy, "новое задание")
    press(sandbox, groups.deputy, subject_question, "Химия")
    bot.database.transaction(
        lambda session: MemberRepository(session, bot.community_id).set_role(groups.deputy, Role.STUDENT)
    )
    [refused] = say(sandbox, groups.deputy, "Лабораторная 2")
    assert refused["text"].startswith("Эта команда доступна только")
    settled(bot, sandbox)
    assert not [text for text in bot_texts(sandbox, groups.first) if "Химия" in text]
