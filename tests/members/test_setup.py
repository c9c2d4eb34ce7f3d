"""«⚙ Настройка»: a community manager shapes the stream from VK (issue 17, point 2).

Groups are created, renamed and removed, students moved and appointed, the approval of newcomers
switched, all in the bot's dialog; the bot added to a group chat asks the inviting headman whose chat it
is; and what was set up from VK survives a restart with settings.yaml unchanged (settings only seed).
"""

from __future__ import annotations

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.models import MemberStatus, Role
from fsm_bot.storage.repositories import CommunityRepository
from tests.support.bots import StartBot
from tests.support.people import member
from tests.support.talk import press, say
from tests.support.waiting import settled, wait_for

FORBIDDEN = "Эта команда доступна только администраторам потока."


def groups_of(bot: Bot) -> dict[str, int | None]:
    """The community's study groups with their chats, as the database has them."""
    return bot.database.transaction(
        lambda session: {g.name: g.chat_peer_id for g in CommunityRepository(session).study_groups(bot.community_id)}
    )


def group_of_member(bot: Bot, vk_id: int) -> str | None:
    row = member(bot, vk_id)
    assert row is not None
    return bot.database.transaction(lambda session: CommunityRepository(session).group_name(row.study_group_id))


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in (message["keyboard"] or {}).get("buttons", []) for button in row]


def test_a_manager_creates_a_group_renames_it_moves_a_student_and_appoints_a_headman(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    community = sandbox.community()["name"]
    manager = sandbox.add_user("Ольга", "Викторова", role="administrator")["id"]
    student = sandbox.add_user("Пётр", "Ёлкин")["id"]
    other = sandbox.add_user("Вера", "Борисова")["id"]
    bot = start_bot(stream={"community_group": True})  # zero configuration: one group named after the community

    [menu] = say(sandbox, manager, "настройка")
    assert menu["text"].startswith("⚙ Настройка потока") and f"• {community}: " in menu["text"]
    press(sandbox, manager, menu, "➕ Новая группа")
    [refused] = say(sandbox, manager, "!!!", expect=2)[:1]
    assert refused["text"].startswith("Название группы — до 64 символов")
    created, menu = say(sandbox, manager, "ивт-102", expect=2)
    assert created["text"].startswith("Группа ивт-102 создана.")
    assert "• ивт-102: 0 чел." in menu["text"]
    [ask_group] = press(sandbox, manager, menu, "✏️ Переименовать")
    press(sandbox, manager, ask_group, "ивт-102")
    [taken] = say(sandbox, manager, community, expect=2)[:1]
    assert taken["text"] == f"Группа «{community}» уже есть. Напишите другое название."
    renamed, menu = say(sandbox, manager, "ИВТ-102", expect=2)
    assert renamed["text"] == "Группа ивт-102 теперь называется ИВТ-102."
    assert set(groups_of(bot)) == {community, "ИВТ-102"}

    press(sandbox, manager, menu, "🔀 Перевести студента")
    [choose] = say(sandbox, manager, "елкин")  # ё and case do not matter
    [person] = [label for label in labels(choose) if label.startswith("Ёлкин Пётр (")]  # VK cuts long labels
    [ask_target] = press(sandbox, manager, choose, person)
    assert ask_target["text"] == f"В какую группу перевести Ёлкин Пётр (сейчас: {community})?"
    moved, menu = press(sandbox, manager, ask_target, "ИВТ-102", expect=2)
    assert moved["text"] == "Ёлкин Пётр теперь в группе ИВТ-102."
    told = sandbox.wait_for_messages(student, 1, predicate=lambda m: "перевёл вас" in m["text"])
    assert told[-1]["text"] == "Администратор перевёл вас в группу ИВТ-102."
    assert group_of_member(bot, student) == "ИВТ-102"
    assert group_of_member(bot, other) == community

    # «⭐ Старосты» is «назначить», folded in.
    [appoint_group] = press(sandbox, manager, menu, "⭐ Старосты")
    press(sandbox, manager, appoint_group, "ИВТ-102")
    [choose] = say(sandbox, manager, "Ёлкин")
    [ask_role] = press(sandbox, manager, choose, "Ёлкин Пётр (ИВТ-102)")
    [done] = press(sandbox, manager, ask_role, "Староста")
    assert done["text"] == "Готово: Ёлкин Пётр — староста, группа ИВТ-102."
    row = member(bot, student)
    assert row is not None and row.role == Role.HEADMAN.value

    # A group with students is not removed: the manager is told how many to move first.
    [menu] = say(sandbox, manager, "настройка")
    [ask_group] = press(sandbox, manager, menu, "🗑 Удалить группу")
    [confirm] = press(sandbox, manager, ask_group, "ИВТ-102")
    refused, menu = press(sandbox, manager, confirm, "Удалить", expect=2)
    assert refused["text"].startswith("В группе ИВТ-102 ещё 1 чел.: сначала переведите их")
    assert set(groups_of(bot)) == {community, "ИВТ-102"}
    settled(bot, sandbox)


def test_students_and_headmen_cannot_open_the_set_up_nor_forge_it(sandbox: SandboxClient, start_bot: StartBot) -> None:
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    student = sandbox.add_user("Иван", "Петров")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}, "auto_approve": True})
    assert say(sandbox, headman, "настройка")[-1]["text"] == FORBIDDEN
    # A forged menu button, and a forged press of a set-up step with no dialog behind it.
    sandbox.send(student, "⚙ Настройка", payload={"c": "setup"})
    sandbox.send(student, "➕ Новая группа", payload={"f": "setup", "v": 1, "b": ["a", "create"]})
    sent = sandbox.send(headman, "⚙ Настройка", payload={"c": "setup"})
    [answer] = sandbox.wait_for_messages(headman, 1, since=sent["message_id"])
    assert answer["text"] == FORBIDDEN
    settled(bot, sandbox)
    texts = [m["text"] for m in sandbox.messages(student) if m["from"] == "bot"]
    assert FORBIDDEN in texts and not any(text.startswith("⚙ Настройка потока") for text in texts)
    assert set(groups_of(bot)) == {"ИВТ-101"}


def test_approval_switched_on_makes_a_newcomer_wait_for_the_headman(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    manager = sandbox.add_user("Ольга", "Викторова", role="administrator")["id"]
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}}, "auto_approve": True})
    [menu] = say(sandbox, manager, "настройка")
    assert "Новички попадают в группу сразу" in menu["text"]
    note, menu = press(sandbox, manager, menu, "Включить одобрение новичков", expect=2)
    assert note["text"].startswith("Одобрение включено")
    assert "Новичков одобряет староста группы." in menu["text"]

    newcomer = sandbox.add_user("Олег", "Новиков")["id"]
    [ask_group] = say(sandbox, newcomer, "регистрация")
    [ask_name] = press(sandbox, newcomer, ask_group, "ИВТ-101")
    [sent] = press(sandbox, newcomer, ask_name, "Да, верно")
    assert "ИВТ-101" in sent["text"]
    request = sandbox.wait_for_messages(headman, 1, predicate=lambda m: "Новиков" in m["text"])[-1]
    assert {"Подтвердить", "Отклонить"} <= set(labels(request))
    row = member(bot, newcomer)
    assert row is not None and row.status == MemberStatus.PENDING.value


def test_the_bot_added_to_a_chat_asks_the_inviting_headman_which_group_it_is(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    manager = sandbox.add_user("Ольга", "Викторова", role="administrator")["id"]
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    student = sandbox.add_user("Иван", "Петров")["id"]
    bot = start_bot(stream={"groups": {"ИВТ-101": {"headman": headman}, "ИВТ-102": {}}, "auto_approve": True})

    chat = sandbox.create_chat("ИВТ-101 беседа", [headman, student], bot_is_admin=True)  # Анна adds the bot
    question = wait_for(
        lambda: [m for m in sandbox.chat_messages(chat) if m["from"] == "bot"], bool, "the question in the chat"
    )[-1]
    assert question["text"].startswith("Привет! Беседа какой группы это?")
    assert labels(question) == ["ИВТ-101", "Не привязывать"]  # a headman binds only their own group's chat
    # A student pressing it is refused; the headman's press binds the chat.
    sandbox.chat_press(chat, student, question["conversation_message_id"], "ИВТ-101")
    sandbox.chat_press(chat, headman, question["conversation_message_id"], "ИВТ-101")
    wait_for(lambda: [m["text"] for m in sandbox.chat_messages(chat)], lambda texts: any(
        t == "Готово: это беседа группы ИВТ-101." for t in texts), "bound")  # fmt: skip
    assert groups_of(bot) == {"ИВТ-101": chat, "ИВТ-102": None}
    settled(bot, sandbox)
    texts = [m["text"] for m in sandbox.chat_messages(chat) if m["from"] == "bot"]
    assert "Эта команда доступна только заместителям старост и выше." in texts

    # The setting shows it, and the headman's broadcast offers to pin in the chat.
    [menu] = say(sandbox, manager, "настройка")
    assert "• ИВТ-101: " in menu["text"] and "беседа привязана" in menu["text"].split("• ИВТ-101: ")[1].split("\n")[0]
    say(sandbox, headman, "рассылка")
    [added] = say(sandbox, headman, "Собрание в 15:00")
    [who] = press(sandbox, headman, added, "Готово")
    [options] = press(sandbox, headman, who, "Моей группе (ИВТ-101)")
    assert "Закрепить в беседе группы: нет" in labels(options)


def test_groups_set_up_from_vk_survive_a_restart_with_the_old_settings(
    sandbox: SandboxClient, start_bot: StartBot
) -> None:
    manager = sandbox.add_user("Ольга", "Викторова", role="administrator")["id"]
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    settings = {"groups": {"ИВТ-101": {"headman": headman}}, "auto_approve": True}
    bot = start_bot(stream=settings)
    [menu] = say(sandbox, manager, "настройка")
    [ask_group] = press(sandbox, manager, menu, "✏️ Переименовать")
    press(sandbox, manager, ask_group, "ИВТ-101")
    _, menu = say(sandbox, manager, "ИВТ-111", expect=2)
    press(sandbox, manager, menu, "➕ Новая группа")
    _, menu = say(sandbox, manager, "ИВТ-103", expect=2)
    press(sandbox, manager, menu, "Включить одобрение новичков", expect=2)
    settled(bot, sandbox)
    bot.stop()

    again = start_bot(stream=settings)  # settings.yaml unchanged: it still names ИВТ-101
    assert set(groups_of(again)) == {"ИВТ-111", "ИВТ-103"}
    row = member(again, headman)
    assert row is not None and row.role == Role.HEADMAN.value
    assert group_of_member(again, headman) == "ИВТ-111"
    [menu] = say(sandbox, manager, "настройка")
    assert "Новичков одобряет староста группы." in menu["text"]


def test_a_manager_unbinds_a_groups_chat_and_a_headman_may_not(sandbox: SandboxClient, start_bot: StartBot) -> None:
    manager = sandbox.add_user("Ольга", "Викторова", role="administrator")["id"]
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    chat = 2_000_000_005
    groups = {"ИВТ-101": {"headman": headman, "chat_peer_id": chat}, "ИВТ-102": {}}
    bot = start_bot(stream={"groups": groups, "auto_approve": True})

    [menu] = say(sandbox, manager, "настройка")
    assert "беседа привязана" in menu["text"].split("• ИВТ-101: ")[1].split("\n")[0]
    # A headman may not: the set-up is a stream admin's (the engine checks the role at every step).
    [refused] = say(sandbox, headman, "настройка")
    assert refused["text"] == FORBIDDEN
    [which] = press(sandbox, manager, menu, "🔗 Отвязать беседу")
    assert which["text"] == "От какой группы отвязать беседу?"
    assert labels(which) == ["ИВТ-101", "Назад", "Отмена"]  # only a group that has a chat
    [confirm] = press(sandbox, manager, which, "ИВТ-101")
    assert labels(confirm) == ["Отвязать", "Не отвязывать", "Назад", "Отмена"]
    [kept] = press(sandbox, manager, confirm, "Не отвязывать")
    assert groups_of(bot) == {"ИВТ-101": chat, "ИВТ-102": None}
    [which] = press(sandbox, manager, kept, "🔗 Отвязать беседу")
    [confirm] = press(sandbox, manager, which, "ИВТ-101")
    unbound, menu = press(sandbox, manager, confirm, "Отвязать", expect=2)
    assert unbound["text"] == "Беседа группы ИВТ-101 отвязана."
    assert groups_of(bot) == {"ИВТ-101": None, "ИВТ-102": None}
    assert "беседа привязана" not in menu["text"]
    assert "🔗 Отвязать беседу" not in labels(menu)  # no group has a chat now
