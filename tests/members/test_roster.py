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
    assert labels(which) == [
        f"Иванов Иван (id{twin_a})",
        f"Иванов Иван (id{twin_b})",
        "Никто, его нет в VK",
        "Назад",
        "Отмена",
    ]
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
    assert "2 человека, из них в сообществе 1" in answers[-1]["text"]
    assert "Тарасова Вера" in answers[-1]["text"]


def test_someone_listed_without_vk_who_joins_later_is_one_row_with_their_absences_after_the_next_list(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    from datetime import date

    from sqlalchemy import select

    from fsm_bot.storage.attendance_models import Absence, AbsenceReason
    from fsm_bot.storage.repositories import AttendanceRepository, MemberRepository

    headman = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    sandbox.add_user("Олег", "Волков")
    bot = start_bot(stream={"community_group": True})
    listing = "список группы\nВолков Олег\nТарасова Вера"
    answers = say(sandbox, headman, listing)
    press(sandbox, headman, answers[-1], "Сохранить")
    settled(bot, sandbox)

    def rows(session):  # type: ignore[no-untyped-def]
        [group] = CommunityRepository(session).study_groups(bot.community_id)
        return group.id, [(s.vk_id, s.last_name) for s in group_students(session, bot.community_id, group.id)]

    group_id, students = bot.database.transaction(rows)
    [offline_vk_id] = [vk_id for vk_id, last in students if last == "Тарасова"]
    assert offline_vk_id < 0

    def mark(day: date, *vk_ids: int):  # type: ignore[no-untyped-def]
        def write(session):  # type: ignore[no-untyped-def]
            members = MemberRepository(session, bot.community_id)
            ids = [members.get(vk_id).id for vk_id in vk_ids]  # type: ignore[union-attr]
            marks = {member_id: AbsenceReason.UNEXCUSED for member_id in ids}
            assert AttendanceRepository(session, bot.community_id).save(group_id, day, "day", marks, headman, 0).saved

        bot.database.transaction(write)

    mark(date(2026, 11, 2), offline_vk_id)
    mark(date(2026, 11, 3), offline_vk_id)
    vera = sandbox.add_user("Вера", "Тарасова", member=False)["id"]
    sandbox.update_user(vera, member=True)  # she joins the community: group_join
    settled(bot, sandbox)
    assert member(bot, vera) is not None
    mark(date(2026, 11, 4), offline_vk_id, vera)  # the same lesson marked for both rows: one mark is kept
    assert sorted(last for _, last in bot.database.transaction(rows)[1]).count("Тарасова") == 2

    answers = say(sandbox, headman, listing)
    assert "2 человека, из них в сообществе 2" in answers[-1]["text"]
    [saved] = press(sandbox, headman, answers[-1], "Сохранить")
    assert "Вступили в сообщество из тех, кто был без VK: 1" in saved["text"]
    settled(bot, sandbox)

    _, students = bot.database.transaction(rows)
    assert [vk_id for vk_id, last in students if last == "Тарасова"] == [vera]
    assert member(bot, offline_vk_id) is None

    def absences(session):  # type: ignore[no-untyped-def]
        row = MemberRepository(session, bot.community_id).get(vera)
        return sorted(a.date for a in session.scalars(select(Absence).where(Absence.member_id == row.id)))

    assert bot.database.transaction(absences) == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]


def test_links_by_short_address_are_asked_of_vk_25_to_a_request(sandbox: SandboxClient, start_bot: StartBot) -> None:
    letters = "абвгдежзийклмнопрстуфхцчш"
    headman = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    # VK names in Latin, unlike the list: only the address finds them.
    people = [sandbox.add_user("Student", f"Latin{i}", screen_name=f"student_{i:02}")["id"] for i in range(26)]
    bot = start_bot(stream={"community_group": True})
    settled(bot, sandbox)
    lines = [
        f"{i + 1}. Студент{letters[i % 25]} Имя{letters[i // 25]} https://vk.com/student_{i:02}" for i in range(26)
    ]
    lines.append("27. Фомина Дина https://vk.com/nobody_has_it")  # nobody's address: matched by name, not found
    before = sandbox.stats()["calls"]

    answers = say(sandbox, headman, "список группы\n" + "\n".join(lines))
    calls = sandbox.stats()["calls"]
    assert calls.get("utils.resolveScreenName", 0) - before.get("utils.resolveScreenName", 0) == 27
    assert calls["execute"] - before.get("execute", 0) == 2  # 27 addresses: 25 in one request, 2 in the next
    assert "27 человек, из них в сообществе 26" in answers[-1]["text"]
    assert "Фомина Дина" in answers[-1]["text"]
    [saved] = press(sandbox, headman, answers[-1], "Сохранить")
    assert "в группе 26 участников сообщества, без VK 1" in saved["text"]
    settled(bot, sandbox)
    for vk_id in people:
        row = member(bot, vk_id)
        assert row is not None and row.study_group_id is not None


def test_a_long_name_on_a_button_gives_way_at_a_word_and_the_id_stays_whole() -> None:
    from pathlib import Path

    import flows
    from flows.roster import person_button
    from fsm_bot.texts import Texts

    t = Texts.load("ru", [Path(flows.__file__).parent / "locales"])
    name = "Александра-Виктория Константинопольская Вениаминовна Иванова"
    assert len(name) == 60
    assert person_button(t, name, 123456789) == "Александра-Виктория… (id123456789)"
    assert person_button(t, "Белова Алёна", 42) == "Белова Алёна (id42)"
