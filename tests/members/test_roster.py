"""The headman sends the group's list (issue 17, point 3): 25 names, 20 of them in the community.

Matched by VK link or id first, then by name with ё and case folded; a name two members share is asked
about; the 5 who are not in VK are listed with the community's link, and are rows of the register.
"""

from __future__ import annotations

from openpyxl import Workbook

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.services.attendance import group_students
from fsm_bot.storage.repositories import CommunityRepository
from tests.support.bots import StartBot
from tests.support.people import member
from tests.support.talk import press, say
from tests.support.waiting import settled

NAMES = [("Белова", "Алёна"), ("Волков", "Олег"), ("Гусева", "Мария"), ("Данилов", "Ефим"), ("Егорова", "Ксения"),
         ("Жуков", "Артём"), ("Зайцева", "Ольга"), ("Ильин", "Павел"), ("Ковалёва", "Нина"), ("Лебедев", "Роман"),
         ("Морозова", "Софья"), ("Носков", "Тимур"), ("Орлова", "Ульяна"), ("Павлов", "Фёдор"), ("Романова", "Юлия"),
         ("Соколов", "Яков")]  # fmt: skip
NOT_IN_VK = [("Тарасова", "Вера"), ("Устинов", "Глеб"), ("Фомина", "Дина"), ("Харитонов", "Ян"), ("Чернова", "Ева")]


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def xlsx(rows: list[list[str]]) -> bytes:
    import io

    book = Workbook()
    sheet = book.active
    sheet.append(["№", "Фамилия", "Имя", "Страница VK"])
    for number, row in enumerate(rows, start=1):
        sheet.append([number, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_list_of_25_is_matched_to_20_members_and_5_are_named_as_not_yet_in_vk(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    headman = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    by_name = [sandbox.add_user(first, last)["id"] for last, first in NAMES]
    by_link = sandbox.add_user("Petr", "Petrov")["id"]  # VK name in Latin: only the link finds him
    by_id = sandbox.add_user("Саша", "Кузнецов")["id"]  # «Александр» in the list, a bare id beside it
    twin_a = sandbox.add_user("Иван", "Иванов")["id"]
    twin_b = sandbox.add_user("Иван", "Иванов")["id"]
    outsider = sandbox.add_user("Пётр", "Посторонний")["id"]  # in the community, not on the list
    bot = start_bot(stream={"community_group": True})

    rows = [[last.upper() if i == 0 else last.replace("ё", "е"), first] for i, (last, first) in enumerate(NAMES)]
    rows += [["Петров", "Пётр", f"https://vk.com/id{by_link}"], ["Кузнецов", "Александр", str(by_id)]]
    rows += [["Иванов", "Иван", ""], ["Иванов", "Иван", ""]]  # two lines, two members: asked once
    rows += [[last, first, ""] for last, first in NOT_IN_VK]
    assert len(rows) == 25
    document = sandbox.add_file(headman, "ИВТ-101.xlsx", xlsx(rows))

    [question] = say(sandbox, headman, "список группы")
    assert "xlsx" in question["text"]
    sent = sandbox.send(headman, "", attachments=[document])
    [which] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"])
    assert "«Иванов Иван»" in which["text"]
    assert labels(which) == [f"Иванов Иван (id{twin_a})", f"Иванов Иван (id{twin_b})", "Никто, его нет в VK"]
    [summary] = press(sandbox, headman, which, f"Иванов Иван (id{twin_a})")
    assert "25 человек, из них в сообществе 20" in summary["text"]
    assert "Ещё не в сообществе (5)" in summary["text"]
    for last, first in NOT_IN_VK:
        assert f"{last} {first}" in summary["text"]
    assert f"https://vk.com/club{bot.community_id}" in summary["text"]
    [saved] = press(sandbox, headman, summary, "Сохранить")
    assert "без VK 5" in saved["text"]
    settled(bot, sandbox)

    def register(session):  # type: ignore[no-untyped-def]
        [group] = CommunityRepository(session).study_groups(bot.community_id)
        return [(s.last_name, s.first_name) for s in group_students(session, bot.community_id, group.id)]

    students = bot.database.transaction(register)
    assert set(NOT_IN_VK) <= set(students)  # people without VK are rows of the register
    assert ("Смирнова", "Анна") in students and ("Посторонний", "Пётр") in students  # zero config: all members
    assert len(students) == 20 + 5 + 2  # the list's 25, the headman and the outsider
    for vk_id in [*by_name, by_link, by_id, twin_a, twin_b, outsider]:
        row = member(bot, vk_id)
        assert row is not None and row.study_group_id is not None

    # The same list again adds nobody twice.
    say(sandbox, headman, "список группы")
    sent = sandbox.send(headman, "", attachments=[document])
    [which] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"])
    [summary] = press(sandbox, headman, which, f"Иванов Иван (id{twin_b})")  # the other line is then twin_a
    press(sandbox, headman, summary, "Сохранить")
    settled(bot, sandbox)
    assert len(bot.database.transaction(register)) == 20 + 5 + 2


def test_a_pasted_list_with_the_trigger_and_a_line_that_is_not_a_name(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    headman = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    sandbox.add_user("Олег", "Волков")
    start_bot(stream={"community_group": True})
    answers = say(sandbox, headman, "список группы\n1. Волков Олег\n2. 12345\n3. Тарасова Вера", expect=2)
    assert "строка 2" in answers[0]["text"]
    assert "2 человек, из них в сообществе 1" in answers[-1]["text"]
    assert "Тарасова Вера" in answers[-1]["text"]
