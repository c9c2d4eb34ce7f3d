"""A fresh community with nothing configured but the token and the group id (issue 17, point 1).

The community is one study group named after it; its manager leads it; every member is its student at
once, with no onboarding question; joins keep it current; a broadcast to the group reaches everyone who
allows messages, and the report names who cannot receive it.
"""

from __future__ import annotations

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import MemberStatus, Role
from fsm_bot.storage.repositories import CommunityRepository
from tests.support.bots import StartBot
from tests.support.broadcasts import report_of
from tests.support.people import member
from tests.support.talk import press, say
from tests.support.waiting import settled, wait_for, wait_until

STUDENTS = 30


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def zero_config(start_bot: StartBot):  # type: ignore[no-untyped-def]
    """The bot as a new user runs it: no stream.groups, nothing but the community."""
    return start_bot(stream={"community_group": True})


def test_a_fresh_community_is_one_study_group_of_all_its_members(sandbox: SandboxClient, start_bot: StartBot) -> None:
    community = sandbox.community()["name"]
    manager = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    students = [sandbox.add_user(f"Имя{i:02d}", f"Студентов{i:02d}")["id"] for i in range(STUDENTS)]
    closed = students[7]
    sandbox.update_user(closed, allow_messages=False)
    bot = zero_config(start_bot)

    groups = bot.database.transaction(
        lambda session: [g.name for g in CommunityRepository(session).study_groups(bot.community_id)]
    )
    assert groups == [community]
    for vk_id in students:
        row = member(bot, vk_id)
        assert row is not None and row.status == MemberStatus.ACTIVE.value and row.study_group_id is not None
    head = member(bot, manager)
    assert head is not None and head.role == Role.ADMIN.value and head.study_group_id is not None

    # Every student who allows messages is answered with the menu at once, no onboarding question.
    for vk_id in students:
        if vk_id == closed:
            continue
        [answer] = say(sandbox, vk_id, "привет")
        assert answer["text"].startswith("Главное меню"), answer["text"]
        assert answer["keyboard"] is not None

    # The manager's broadcast to the group: 30 recipients, the one who forbids messages named.
    say(sandbox, manager, "рассылка")
    [added] = say(sandbox, manager, "Завтра пар нет")
    [who] = press(sandbox, manager, added, "Готово")
    [group_button] = [label for label in labels(who) if label.startswith("Моей группе")]
    [options] = press(sandbox, manager, who, group_button)
    confirm = press(sandbox, manager, options, "Далее", expect=3)[-1]
    assert f"Получат: {STUDENTS}" in confirm["text"] or str(STUDENTS) in confirm["text"]
    assert "Студентов07 Имя07" in confirm["text"]
    press(sandbox, manager, confirm, "Отправить", expect=2)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, manager)["text"], timeout=30, what="report")
    report = report_of(sandbox, manager)["text"]
    assert f"Доставлено: {STUDENTS - 1}" in report
    assert "Студентов07 Имя07" in report
    settled(bot, sandbox)
    for vk_id in students:
        got = [m for m in sandbox.messages(vk_id) if m["from"] == "bot" and m["text"] == "Завтра пар нет"]
        assert len(got) == (0 if vk_id == closed else 1)


def test_a_newcomer_joins_the_group_and_is_answered_with_the_menu(sandbox: SandboxClient, start_bot: StartBot) -> None:
    sandbox.add_user("Анна", "Смирнова", role="administrator")
    bot = zero_config(start_bot)
    newcomer = sandbox.add_user("Олег", "Новиков", member=False)["id"]
    sandbox.update_user(newcomer, member=True)  # group_join
    row = wait_for(lambda: member(bot, newcomer), lambda row: row is not None and row.study_group_id is not None,
                   "the newcomer placed")  # fmt: skip
    assert row.status == MemberStatus.ACTIVE.value
    [answer] = say(sandbox, newcomer, "привет")
    assert answer["text"].startswith("Главное меню")
    sandbox.update_user(newcomer, member=False)  # group_leave
    wait_for(lambda: member(bot, newcomer), lambda row: row is not None and not row.is_member, "the leave recorded")


def test_once_a_second_group_exists_newcomers_choose(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = zero_config(start_bot)
    bot.database.transaction(lambda session: CommunityRepository(session).study_group(bot.community_id, "ИВТ-102"))
    stranger = sandbox.add_user("Олег", "Новиков", member=False)["id"]
    [question] = say(sandbox, stranger, "привет")
    assert "ИВТ-102" in str(question["keyboard"])
    row = member(bot, stranger)
    assert row is not None and row.study_group_id is None


def test_the_one_shot_form_starts_the_broadcast_with_its_text(sandbox: SandboxClient, start_bot: StartBot) -> None:
    """`.mb Завтра пар нет` (the seed's form): the text is the broadcast's first part, not «Не понимаю»."""
    manager = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    student = sandbox.add_user("Иван", "Петров")["id"]
    bot = zero_config(start_bot)
    [added] = say(sandbox, manager, ".mb Завтра пар нет")
    assert added["text"].startswith("Добавлено сообщений: 1.")
    [who] = press(sandbox, manager, added, "Готово")
    [group_button] = [label for label in labels(who) if label.startswith("Моей группе")]
    [options] = press(sandbox, manager, who, group_button)
    confirm = press(sandbox, manager, options, "Далее", expect=3)[-1]
    press(sandbox, manager, confirm, "Отправить", expect=2)
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, manager)["text"], timeout=30, what="report")
    settled(bot, sandbox)
    assert [m["text"] for m in sandbox.messages(student) if m["from"] == "bot"] == ["Завтра пар нет"]


def test_members_carry_the_sex_vk_gives_from_the_sync_and_from_a_first_message(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    """users.get / groups.getMembers `sex` is kept (1 female, 2 male, 0 unknown): a sentence about a person
    needs it for the verb («подтвердила» / «подтвердил»)."""
    sandbox.add_user("Анна", "Смирнова", role="administrator", sex=1)
    olga = sandbox.add_user("Ольга", "Белова", sex=1)["id"]
    oleg = sandbox.add_user("Олег", "Новиков", sex=2)["id"]
    unknown = sandbox.add_user("Саша", "Ким")["id"]
    bot = zero_config(start_bot)
    assert [getattr(member(bot, vk_id), "sex", None) for vk_id in (olga, oleg, unknown)] == [1, 2, 0]

    stranger = sandbox.add_user("Мария", "Орлова", member=False, sex=1)["id"]
    say(sandbox, stranger, "привет")
    assert getattr(member(bot, stranger), "sex", None) == 1
