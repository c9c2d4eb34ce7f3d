"""Issue 21's features on a fresh community with nothing configured: no stream.groups, no timetable.

The community's manager leads its one study group (issue 17), so «новое задание» and «открыть очередь» are
theirs with a typed subject; a student sees the assignment, answers a poll and joins the queue: the features
as a headman with no shell would try them on the first day.
"""

from __future__ import annotations

from fsm_bot.sandbox.client import SandboxClient
from tests.homework.steps import give, send, told
from tests.queues.story import announcement, labels, tap
from tests.support.bots import StartBot
from tests.support.polls import make_poll
from tests.support.talk import press, say


def test_a_manager_gives_homework_and_opens_a_queue_with_nothing_configured(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    manager = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    student = sandbox.add_user("Пётр", "Алексеев")["id"]
    start_bot(stream={"community_group": True})
    name = sandbox.community()["name"]

    summary, confirm = give(sandbox, manager, "Матанализ", "№ 12–15", "завтра 10:00", typed_subject=True)
    assert summary["text"] == "Предмет: Матанализ\nСрок: Завтра 10:00\n№ 12–15"
    send(sandbox, manager, confirm)
    [given] = told(sandbox, student, "📚 Новое задание")
    assert "Матанализ" in given["text"] and "№ 12–15" in given["text"]
    header, item = say(sandbox, student, "задания", expect=2)
    assert header["text"] == f"📚 Задания {name}, ближайшие сроки первыми:"
    assert item["text"] == "📌 Матанализ · срок: Завтра 10:00\n№ 12–15"
    [header, item] = say(sandbox, manager, "задания", expect=2)
    assert labels(header) == ["➕ Новое задание", "🔔 Напоминания о сроках"]

    [subject] = say(sandbox, manager, "открыть очередь")
    assert "Общая пара" not in labels(subject)  # no timetable: nothing to offer but typing
    say(sandbox, manager, "Матанализ")
    [who] = say(sandbox, manager, "00:00-23:59")
    [confirm] = press(sandbox, manager, who, "Без помощника")
    press(sandbox, manager, confirm, "Открыть очередь", expect=2)
    assert tap(sandbox, student, announcement(sandbox, student), "Встать в очередь") == "Вы в очереди, ваше место: 1."

    confirm = make_poll(sandbox, manager, "Когда консультация?", ["Среда", "Пятница"], audience="Моей группе")
    press(sandbox, manager, confirm, "Отправить", expect=2)
    [poll] = sandbox.wait_for_messages(student, 1, lambda m: m["text"].startswith("Когда консультация?"), timeout=15)
    assert tap(sandbox, student, poll, "Пятница") == "Ваш ответ: «Пятница». Передумаете — нажмите другой."
