"""Who may do what, and how a newcomer becomes a member of a study group."""

from __future__ import annotations

import json
from collections.abc import Callable

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import Role
from fsm_bot.storage.repositories import MemberRepository
from tests.support.people import enrolled, member
from tests.support.talk import press, say
from tests.support.waiting import wait_until

StartBot = Callable[..., Bot]


def test_help_hides_what_a_student_may_not_use(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    student = enrolled(sandbox, bot, "Иван", "Петров")
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    student_help = say(sandbox, student, "помощь")[-1]["text"]
    headman_help = say(sandbox, headman, ".h")[-1]["text"]
    assert "«опрос»" in student_help and "«секрет»" not in student_help
    assert "«опрос»" in headman_help and "«секрет»" in headman_help


def test_commands_match_in_any_case_with_leading_spaces(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, role=Role.HEADMAN)
    for text in ("  СЕКРЕТ", "Секрет  ", "секрет"):
        assert say(sandbox, headman, text)[-1]["text"] == "Секрет для старост"


def test_a_student_typing_or_forging_a_leaders_command_is_refused(
    sandbox: SandboxClient, start_bot: StartBot, caplog
) -> None:  # type: ignore[no-untyped-def]
    bot = start_bot()
    student = enrolled(sandbox, bot)
    assert say(sandbox, student, "секрет")[-1]["text"] == "Эта команда доступна только старостам и выше."
    since = sandbox.messages(student)[-1]["id"]
    sandbox.send(student, "Секрет для старост", payload={"c": "leaders_only"})
    [refusal] = sandbox.wait_for_messages(student, 1, since=since)
    assert refusal["text"] == "Эта команда доступна только старостам и выше."
    assert any("refused leaders_only" in record.getMessage() for record in caplog.records)


def test_a_student_replaying_a_headmans_approval_button_achieves_nothing(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot(stream={"auto_approve": False})
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    say(sandbox, newcomer, "привет")  # onboarding starts
    [question] = [m for m in sandbox.messages(newcomer) if m["from"] == "bot"][-1:]
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    press(sandbox, newcomer, confirm, "Да, верно")
    request = sandbox.wait_for_messages(headman, 1, predicate=lambda m: "Заявка в группу ИВТ-101" in m["text"])[-1]
    approve = request["keyboard"]["buttons"][0][0]["action"]["payload"]

    student = enrolled(sandbox, bot, "Пётр", "Хитрый")
    since = sandbox.messages(student)[-1]["id"] if sandbox.messages(student) else None
    sandbox.send(student, "Подтвердить", payload=json.loads(approve))
    [refusal] = sandbox.wait_for_messages(student, 1, since=since)
    assert refusal["text"] == "Эта команда доступна только заместителям старост и выше."
    assert member(bot, newcomer).status == "pending"  # type: ignore[union-attr]

    # The real headman's press works once; a second press is told it was decided.
    [done] = press(sandbox, headman, request, "Подтвердить")
    assert done["text"] == "Новенький Олег теперь в группе ИВТ-101."
    assert member(bot, newcomer).status == "active"  # type: ignore[union-attr]
    assert (
        "вы в группе ИВТ-101"
        in sandbox.wait_for_messages(newcomer, 1, predicate=lambda m: "Староста" in m["text"])[-1]["text"]
    )
    assert press(sandbox, headman, request, "Подтвердить")[-1]["text"] == "По этой заявке уже принято решение."


def test_a_leader_of_another_group_cannot_approve(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    other = sandbox.add_user("Дмитрий", "Кузнецов")

    def lead_102(session) -> None:  # type: ignore[no-untyped-def]
        from fsm_bot.storage.repositories import CommunityRepository, MemberProfile

        group = CommunityRepository(session).study_group(bot.community_id, "ИВТ-102")
        members = MemberRepository(session, bot.community_id)
        members.upsert_profiles([MemberProfile(other["id"], "Дмитрий", "Кузнецов")])
        row = members.get(other["id"])
        row.study_group_id, row.status, row.role = group.id, "active", "headman"

    bot.database.transaction(lead_102)
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    say(sandbox, newcomer, "привет")
    question = [m for m in sandbox.messages(newcomer) if m["from"] == "bot"][-1]
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    press(sandbox, newcomer, confirm, "Да, верно")
    since = sandbox.messages(other["id"])[-1]["id"] if sandbox.messages(other["id"]) else None
    sandbox.send(other["id"], "Подтвердить", payload={"c": "membership", "b": f"{newcomer}:yes"})
    [refusal] = sandbox.wait_for_messages(other["id"], 1, since=since)
    assert refusal["text"] == "Эта команда доступна только старостам и выше."
    assert member(bot, newcomer).status == "pending"  # type: ignore[union-attr]


def test_a_newcomer_onboards_with_a_corrected_name_and_auto_approval(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot(stream={"auto_approve": True})
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)  # makes the group ИВТ-101 exist
    newcomer = sandbox.add_user("Sasha", "Ivanov")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    assert question["text"].startswith("Здравствуйте!")
    assert [b["action"]["label"] for row in question["keyboard"]["buttons"] for b in row] == [
        "ИВТ-101",
        "Отмена",  # no «Назад»: a newcomer has no menu to go back to
    ]
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    assert confirm["text"] == "Группа ИВТ-101. В журнале вы будете записаны как «Ivanov Sasha». Верно?"
    [ask] = press(sandbox, newcomer, confirm, "Исправить")
    assert ask["text"].startswith("Напишите фамилию и имя")
    assert say(sandbox, newcomer, "Иванов")[-1]["text"].startswith("Нужны фамилия и имя")
    [confirm_again] = say(sandbox, newcomer, "Иванов Александр")
    assert "«Иванов Александр»" in confirm_again["text"]
    [welcome] = press(sandbox, newcomer, confirm_again, "Да, верно")
    assert welcome["text"] == "Готово! Вы в группе ИВТ-101. Теперь вам будут приходить сообщения старосты."
    stored = member(bot, newcomer)
    assert stored is not None and (stored.last_name, stored.first_name, stored.status) == (
        "Иванов",
        "Александр",
        "active",
    )


def test_a_newcomer_can_use_help_but_not_the_rest(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    help_text = say(sandbox, newcomer, "помощь")[-1]["text"]
    assert "регистрация" in help_text and "«опрос»" not in help_text
    assert say(sandbox, newcomer, "опрос")[-1]["text"].startswith("Здравствуйте!")  # onboarding first


def test_vk_membership_events_keep_the_member_list_current(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    user = sandbox.add_user("Ирина", "Орлова", allow_messages=False, member=False)
    sandbox.update_user(user["id"], member=True)
    wait_until(lambda: member(bot, user["id"]) is not None, 10, "the member row")
    assert member(bot, user["id"]).first_name == "Ирина"  # type: ignore[union-attr]
    sandbox.update_user(user["id"], allow_messages=True)
    wait_until(lambda: member(bot, user["id"]).can_receive, 10, "can_receive")  # type: ignore[union-attr]
    sandbox.update_user(user["id"], allow_messages=False)
    wait_until(lambda: not member(bot, user["id"]).can_receive, 10, "not can_receive")  # type: ignore[union-attr]
    sandbox.update_user(user["id"], member=False)
    wait_until(lambda: not member(bot, user["id"]).is_member, 10, "not is_member")  # type: ignore[union-attr]


def test_start_syncs_members_and_managers_from_vk(
    sandbox: SandboxClient, database_url: str, start_bot: StartBot
) -> None:
    creator = sandbox.add_user("Ольга", "Викторова", role="creator")
    student = sandbox.add_user("Иван", "Петров")
    headman = sandbox.add_user("Анна", "Смирнова")
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman["id"]}}})
    assert member(bot, creator["id"]).role == "admin"  # type: ignore[union-attr]
    assert member(bot, student["id"]).role == "student"  # type: ignore[union-attr]
    stored = member(bot, headman["id"])
    assert stored is not None and (stored.role, stored.status) == ("headman", "active")


def test_an_admin_appoints_a_new_headman_and_the_old_one_steps_down(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    bot = start_bot()
    admin = enrolled(sandbox, bot, "Ольга", "Викторова", role=Role.ADMIN)
    old_headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    student = enrolled(sandbox, bot, "Пётр", "Ёлкин")
    [ask_group] = say(sandbox, admin, "назначить")
    [ask_person] = press(sandbox, admin, ask_group, "ИВТ-101")
    assert ask_person["text"].startswith("Группа ИВТ-101. Напишите фамилию")
    [choose] = say(sandbox, admin, "елк")  # ё and case do not matter
    [ask_role] = press(sandbox, admin, choose, "Ёлкин Пётр (ИВТ-101)")
    [done] = press(sandbox, admin, ask_role, "Староста")
    assert done["text"] == "Готово: Ёлкин Пётр — староста, группа ИВТ-101."
    told = sandbox.wait_for_messages(student, 1, predicate=lambda m: "Вам назначена роль" in m["text"])
    assert told[-1]["text"].startswith("Вам назначена роль: староста группы ИВТ-101.")
    assert (member(bot, student).role, member(bot, old_headman).role) == ("headman", "student")  # type: ignore[union-attr]


def test_a_headman_cannot_appoint(sandbox: SandboxClient, start_bot: StartBot) -> None:
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    assert say(sandbox, headman, "назначить")[-1]["text"] == "Эта команда доступна только администраторам потока."


def test_a_leader_demoted_mid_dialog_cannot_step_back_into_it(sandbox: SandboxClient, start_bot: StartBot) -> None:
    """«назад» asks the previous step's question again, so it is checked against the role like a step."""
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, "Завтра пар нет")
    press(sandbox, headman, added, "Готово")

    def demote(session) -> None:  # type: ignore[no-untyped-def]
        MemberRepository(session, bot.community_id).get(headman).role = Role.STUDENT.value

    bot.database.transaction(demote)
    [refusal] = say(sandbox, headman, "назад")
    assert refusal["text"] == "Эта команда доступна только заместителям старост и выше."
    assert say(sandbox, headman, "назад")[-1]["text"] != added["text"]


def test_the_welcome_after_onboarding_carries_the_members_menu(sandbox: SandboxClient, start_bot: StartBot) -> None:
    """The event that makes a newcomer a member answers with a member's menu, not the newcomer's it began with."""
    bot = start_bot(stream={"auto_approve": True})
    enrolled(sandbox, bot, "Анна", "Смирнова", role=Role.HEADMAN)  # makes the group ИВТ-101 exist
    newcomer = sandbox.add_user("Олег", "Новиков")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    [welcome] = press(sandbox, newcomer, confirm, "Да, верно")
    [menu] = say(sandbox, newcomer, "меню")
    labels = [button["action"]["label"] for row in welcome["keyboard"]["buttons"] for button in row]
    assert labels == [button["action"]["label"] for row in menu["keyboard"]["buttons"] for button in row]
    assert "Расписание" in labels  # a newcomer's menu has only «Помощь»


def test_a_newcomer_reads_of_the_headman_in_her_gender(sandbox: SandboxClient, start_bot: StartBot) -> None:
    headman = sandbox.add_user("Анна", "Смирнова", sex=1)["id"]  # VK's users.get sex: 1 female
    start_bot(stream={"auto_approve": False, "groups": {"ИВТ-101": {"headman": headman}, "ИВТ-102": {}}})
    newcomer = sandbox.add_user("Олег", "Новенький")["id"]
    [question] = say(sandbox, newcomer, "Начать")
    [confirm] = press(sandbox, newcomer, question, "ИВТ-101")
    [sent] = press(sandbox, newcomer, confirm, "Да, верно")
    assert sent["text"] == "Заявка отправлена старосте группы ИВТ-101. Я напишу, когда она подтвердит."
    [again] = say(sandbox, newcomer, "регистрация")
    assert again["text"] == "Ваша заявка в группу ИВТ-101 уже у старосты. Я напишу, как только она ответит."
    request = sandbox.wait_for_messages(headman, 1, predicate=lambda m: "Заявка в группу ИВТ-101" in m["text"])[-1]
    press(sandbox, headman, request, "Подтвердить")
    welcome = sandbox.wait_for_messages(newcomer, 1, predicate=lambda m: m["text"].startswith("Староста"))[-1]
    assert welcome["text"] == "Староста подтвердила: вы в группе ИВТ-101. Напишите «помощь», чтобы увидеть команды."
