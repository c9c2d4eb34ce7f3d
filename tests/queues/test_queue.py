"""Queues end to end: the real bot, vk_api over HTTP, the sandbox as VK; on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from fsm_bot.sandbox.client import SandboxClient
from tests.queues.story import (
    NAMES,
    WHEN,
    Group,
    announcement,
    labels,
    message,
    open_queue,
    payload,
    tap,
    waiting_names,
)
from tests.support import week as this_week
from tests.support.people import enrol
from tests.support.talk import ANSWER_TIMEOUT, bot_texts, press, say
from tests.support.week import seed


@pytest.fixture
def group(sandbox: SandboxClient, database_url: str, start_bot) -> Group:  # type: ignore[no-untyped-def]
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]  # VK's 1: female, «открыла»
    students = [sandbox.add_user(first, last, sex=2 if first != "Вера" and first != "Нина" else 1)["id"]
                for first, last in NAMES]  # fmt: skip
    outsider = sandbox.add_user("Зоя", "Чужая", sex=1)["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}})
    for student, name in zip(students, NAMES, strict=True):
        enrol(bot, student, 1, name=name)
    enrol(bot, outsider, None, group="ИВТ-102", name=("Зоя", "Чужая"))
    return Group(bot, headman, students, outsider)


def test_students_join_leave_and_are_called_one_by_one(sandbox: SandboxClient, group: Group) -> None:
    first, second, third, helper, _ = group.students
    [subject] = say(sandbox, group.headman, "открыть очередь")
    assert subject["text"] == "Очередь на какой предмет? Выберите или напишите название."
    assert {"Общая пара", "Физика", "Химия"} <= set(labels(subject))
    [window] = press(sandbox, group.headman, subject, "Общая пара")
    assert window["text"].startswith("Когда можно вставать в очередь?")
    again = say(sandbox, group.headman, "после обеда", expect=2)[0]
    assert again["text"].startswith("Не понимаю время.")
    [who] = say(sandbox, group.headman, "00:00-23:59")
    assert "помощника преподавателя" in who["text"] and "Без помощника" in labels(who)
    [confirm] = say(sandbox, group.headman, "Громов")
    assert confirm["text"].startswith(f"Очередь: Общая пара\nКогда: {WHEN}\nПомощник преподавателя: Громов Олег\n")
    managing, told = press(sandbox, group.headman, confirm, "Открыть очередь", expect=2)
    assert told["text"] == "Очередь открыта, сообщение отправлено 5 студентам."
    assert managing["text"] == f"Очередь «Общая пара», {WHEN}\nВ очереди: 0"
    assert labels(managing) == ["Следующий", "Закрыть очередь"]

    news = announcement(sandbox, first)
    assert news["text"] == (
        f"Смирнова Анна открыла очередь: Общая пара, {WHEN}.\n"
        "Нажмите «Встать в очередь», чтобы занять место; «очередь» покажет список."
    )
    assert bot_texts(sandbox, group.outsider) == []  # another group's student sees nothing
    helping = sandbox.wait_for_messages(helper, 2, timeout=ANSWER_TIMEOUT)[-1]
    assert (
        helping["text"] == "Вы помощник преподавателя в очереди «Общая пара»: кнопка «Следующий» вызывает следующего."
    )

    for place, student in enumerate((first, second, third), start=1):
        assert tap(sandbox, student, announcement(sandbox, student), "Встать в очередь") == (
            f"Вы в очереди, ваше место: {place}."
        )
    assert tap(sandbox, first, announcement(sandbox, first), "Встать в очередь") == "Вы уже в очереди, ваше место: 1."
    assert tap(sandbox, second, announcement(sandbox, second), "Выйти из очереди") == "Вы вышли из очереди."
    assert tap(sandbox, second, announcement(sandbox, second), "Выйти из очереди") == "Вас нет в этой очереди."
    [mine] = say(sandbox, third, "очередь")
    assert mine["text"] == (
        f"Очередь «Общая пара», {WHEN}\nВ очереди: 2\n1. Алексеев Пётр\n2. Васильев Илья\n\nВаше место: 2."
    )
    assert labels(mine) == ["Выйти из очереди", "Поменяться: Алексеев П."]

    # «Следующий»: the first is called, the one after is told to get ready.
    assert tap(sandbox, group.headman, managing, "Следующий") == "Вызываем: Алексеев П."
    assert (
        sandbox.wait_for_messages(first, 1, lambda m: m["text"].startswith("Ваша очередь"), timeout=15)[-1]["text"]
        == "Ваша очередь: Общая пара. Подходите!"
    )
    ready = sandbox.wait_for_messages(third, 1, lambda m: m["text"].startswith("Вы следующий"), timeout=15)
    assert [m["text"] for m in ready] == ["Вы следующий в очереди «Общая пара». Приготовьтесь."]
    managing_now = message(sandbox, group.headman, managing["id"])
    assert managing_now["text"] == (
        f"Очередь «Общая пара», {WHEN}\nВ очереди: 1\n1. Васильев Илья\n"
        "Последний вызванный: Алексеев Пётр (всего вызвано: 1)"
    )

    # The helper's button was sent before that call: it only shows the queue as it is now, calling nobody
    # (a double press is told apart the same way); pressed again, it calls the next one.
    assert tap(sandbox, helper, helping, "Следующий") == "Следующего уже вызвали, вот очередь сейчас."
    assert tap(sandbox, helper, helping, "Следующий") == "Вызываем: Васильев И."
    assert tap(sandbox, group.headman, managing_now, "Следующий") == "Следующего уже вызвали, вот очередь сейчас."
    assert tap(sandbox, group.headman, managing_now, "Следующий") == "В очереди никого нет."
    called = [t for s in group.students for t in bot_texts(sandbox, s) if t.startswith("Ваша очередь")]
    assert len(called) == 2
    assert waiting_names(group.bot, payload(managing, "Следующий")["b"][1]) == []


def test_a_swap_needs_the_other_to_agree_and_a_stale_one_is_refused(sandbox: SandboxClient, group: Group) -> None:
    first, second, third, _, _ = group.students
    [managing, _] = open_queue(sandbox, group.headman)
    queue_id = payload(managing, "Следующий")["b"][1]
    for student in (first, second, third):
        tap(sandbox, student, announcement(sandbox, student), "Встать в очередь")

    [mine] = say(sandbox, first, "очередь")
    assert labels(mine) == ["Выйти из очереди", "Поменяться: Борисова В."]
    assert tap(sandbox, first, mine, "Поменяться: Борисова В.") == "Предложение отправлено: Борисова В."
    assert tap(sandbox, first, mine, "Поменяться: Борисова В.") == "Вы уже предложили обмен, ждём ответа."
    [offer] = sandbox.wait_for_messages(second, 1, lambda m: "Поменяться" in labels(m), timeout=15)
    assert offer["text"] == "Алексеев Пётр предлагает поменяться местами в очереди «Общая пара»: ваше место 2 станет 1."
    assert tap(sandbox, second, offer, "Поменяться") == "Готово, вы поменялись местами."
    assert message(sandbox, second, offer["id"])["text"] == (
        "Обмен местами состоялся (Алексеев Пётр): ваше место теперь 1."
    )
    told = sandbox.wait_for_messages(first, 1, lambda m: "согласилась" in m["text"], timeout=15)
    assert (
        told[-1]["text"] == "Борисова Вера согласилась поменяться местами в очереди «Общая пара»: ваше место теперь 2."
    )
    assert waiting_names(group.bot, queue_id) == ["Борисова", "Алексеев", "Васильев"]
    assert tap(sandbox, second, offer, "Поменяться") == "На это предложение уже ответили."

    # Declined: nothing moves.
    [mine] = say(sandbox, third, "очередь")
    assert tap(sandbox, third, mine, "Поменяться: Алексеев П.") == "Предложение отправлено: Алексеев П."
    [offer] = sandbox.wait_for_messages(first, 1, lambda m: "ваше место 2 станет 3" in m["text"], timeout=15)
    assert tap(sandbox, first, offer, "Отказаться") == "Вы отказались."
    told = sandbox.wait_for_messages(third, 1, lambda m: "отказался" in m["text"], timeout=15)
    assert told[-1]["text"] == "Алексеев Пётр отказался меняться местами в очереди «Общая пара»."
    assert waiting_names(group.bot, queue_id) == ["Борисова", "Алексеев", "Васильев"]

    # Stale: offered, then the other one's place changed (they left); the late «Поменяться» is refused.
    assert tap(sandbox, third, mine, "Поменяться: Алексеев П.") == "Предложение отправлено: Алексеев П."
    # the declined offer now says so: the new one is the only offer
    offers = sandbox.wait_for_messages(first, 1, lambda m: "ваше место 2 станет 3" in m["text"], timeout=15)
    assert tap(sandbox, first, announcement(sandbox, first), "Выйти из очереди") == "Вы вышли из очереди."
    assert tap(sandbox, first, offers[-1], "Поменяться") == "Места уже изменились, обмен не состоялся."
    told = sandbox.wait_for_messages(third, 1, lambda m: "не состоялся" in m["text"], timeout=15)
    assert told[-1]["text"] == (
        "Обмен местами (Алексеев Пётр) не состоялся: места в очереди «Общая пара» уже изменились."
    )
    assert waiting_names(group.bot, queue_id) == ["Борисова", "Васильев"]

    # Withdrawn by the one who offered: the other's «Поменяться» then changes nothing.
    [mine] = say(sandbox, third, "очередь")
    assert tap(sandbox, third, mine, "Поменяться: Борисова В.") == "Предложение отправлено: Борисова В."
    sent = sandbox.wait_for_messages(third, 3, lambda m: "Отменить предложение" in labels(m), timeout=15)[-1]
    [offer] = sandbox.wait_for_messages(second, 1, lambda m: "ваше место 1 станет 2" in m["text"], timeout=15)
    assert tap(sandbox, third, sent, "Отменить предложение") == "Предложение отменено."
    told = sandbox.wait_for_messages(second, 1, lambda m: "отменил" in m["text"], timeout=15)
    assert told[-1]["text"] == "Васильев Илья отменил предложение поменяться местами в очереди «Общая пара»."
    assert tap(sandbox, second, offer, "Поменяться") == "На это предложение уже ответили."
    assert waiting_names(group.bot, queue_id) == ["Борисова", "Васильев"]


def test_another_group_and_forged_presses_change_nothing(sandbox: SandboxClient, group: Group) -> None:
    first, second, _, _, _ = group.students
    [managing, _] = open_queue(sandbox, group.headman)
    queue_id = payload(managing, "Следующий")["b"][1]
    join = payload(announcement(sandbox, first), "Встать в очередь")
    tap(sandbox, first, announcement(sandbox, first), "Встать в очередь")

    [nothing] = say(sandbox, group.outsider, "очередь")
    assert nothing["text"] == "Открытых очередей в вашей группе нет."
    sent = sandbox.send(group.outsider, "Встать в очередь", payload=join)
    [refused] = sandbox.wait_for_messages(group.outsider, 1, since=sent["message_id"], timeout=15)
    assert refused["text"] == "Этой очереди нет."
    forged_next = {"c": "queue_press", "b": ["n", queue_id, 0]}
    sent = sandbox.send(group.outsider, "Следующий", payload=forged_next)
    [refused] = sandbox.wait_for_messages(group.outsider, 1, since=sent["message_id"], timeout=15)
    assert refused["text"] == "Этой очереди нет."

    # A student of the group pressing a forged «Следующий» is refused, and nobody is called.
    sent = sandbox.send(second, "Следующий", payload=forged_next)
    [refused] = sandbox.wait_for_messages(second, 1, since=sent["message_id"], timeout=15)
    assert refused["text"] == "Вызывать может только староста, заместитель или помощник преподавателя."
    [opening] = say(sandbox, second, "открыть очередь")
    assert opening["text"] == "Эта команда доступна только заместителям старост и выше."
    assert waiting_names(group.bot, queue_id) == ["Алексеев"]
    assert not any(t.startswith("Ваша очередь") for t in bot_texts(sandbox, first))


def test_joining_before_the_window_or_after_closing_is_refused(sandbox: SandboxClient, group: Group) -> None:
    first = group.students[0]
    [later, _] = open_queue(sandbox, group.headman, window="завтра 10:00-12:00")
    assert later["text"].startswith("Очередь «Общая пара», Завтра 10:00–12:00")
    assert tap(sandbox, first, announcement(sandbox, first), "Встать в очередь") == (
        "Запись ещё не началась: Завтра 10:00–12:00."
    )

    [subject] = say(sandbox, group.headman, "открыть очередь")
    press(sandbox, group.headman, subject, "Общая пара")
    over = say(sandbox, group.headman, f"{this_week.TODAY:%d.%m} 00:00 - 00:01", expect=2)[0]
    assert over["text"].startswith("Это время уже прошло: укажите окно, которое ещё не закончилось.")
    [who] = say(sandbox, group.headman, "с 0 до 23:59")
    [confirm] = press(sandbox, group.headman, who, "Без помощника")
    [managing, _] = press(sandbox, group.headman, confirm, "Открыть очередь", expect=2)
    assert tap(sandbox, group.headman, managing, "Закрыть очередь") == "Очередь закрыта."
    assert message(sandbox, group.headman, managing["id"])["text"] == (
        f"Очередь «Общая пара», {WHEN}\nОчередь закрыта.\nВ очереди: 0"
    )
    assert tap(sandbox, first, announcement(sandbox, first), "Встать в очередь") == "Очередь закрыта."
    [listed] = say(sandbox, first, "очередь")  # the closed one is gone, tomorrow's is there
    assert listed["text"].startswith("Очередь «Общая пара», Завтра 10:00–12:00")
    assert labels(listed) == ["Встать в очередь", "Выйти из очереди"]


def test_two_students_joining_at_once_get_distinct_places(sandbox: SandboxClient, group: Group) -> None:
    [managing, _] = open_queue(sandbox, group.headman)
    queue_id = payload(managing, "Следующий")["b"][1]
    notes = {student: announcement(sandbox, student) for student in group.students}
    before = {student: len(sandbox.snackbars(student)) for student in group.students}
    for student, note in notes.items():  # all pressed before any answer
        sandbox.press(student, note["id"], "Встать в очередь")
    answers = []
    deadline = time.monotonic() + ANSWER_TIMEOUT
    for student in group.students:
        while len(sandbox.snackbars(student)) == before[student]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        answers.append(sandbox.snackbars(student)[-1]["event_data"]["text"])
    assert sorted(answers) == sorted(f"Вы в очереди, ваше место: {n}." for n in range(1, 6))
    assert len(waiting_names(group.bot, queue_id)) == 5
