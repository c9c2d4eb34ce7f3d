"""«назад» from the steps an outside tester found crashing (issue 15, point 3): each one an ordinary answer."""

from __future__ import annotations

from datetime import timedelta

from fsm_bot.storage.repositories import CommunityRepository, TimetableRepository
from tests.support import week as this_week
from tests.support.walk import Stream, to_attendance_confirm


def test_back_from_the_attendance_confirmation_after_giving_reasons(stream: Stream) -> None:
    headman = stream.headman
    to_attendance_confirm(headman)
    assert headman.dialog() == ("attendance", "confirm")

    back = headman.say("назад")
    back.assert_ordinary()
    assert headman.dialog() == ("attendance", "reasons")
    assert back.texts[-1].startswith("Алексеев Пётр — причина пропуска?")  # asked again, to be changed
    confirm = headman.press("у — болезнь")
    confirm.assert_ordinary()
    assert "• Алексеев Пётр — у (болезнь)" in confirm.texts[-1]
    # Further back: the marks as they were, then the lesson.
    headman.say("назад").assert_ordinary()
    back = headman.say("назад")
    back.assert_ordinary()
    assert headman.dialog() == ("attendance", "marks")
    assert "❌ Алексеев П." in str(back.messages[-1]["keyboard"])


def test_back_after_choosing_other_recipients_of_a_broadcast_nobody_would_get(stream: Stream) -> None:
    admin = stream.admin  # the only admin: «Администраторам» means nobody
    admin.say("рассылка админам")
    admin.say("Собрание в пятницу")
    admin.press("Готово")
    nobody = admin.press("Далее")
    assert nobody.texts[-1] == "Среди получателей «администраторы» никого нет."
    admin.press("Выбрать других получателей")
    assert admin.dialog() == ("broadcast", "audience")

    back = admin.say("назад")
    back.assert_ordinary()
    assert admin.dialog() == ("broadcast", "confirm")
    assert back.texts[-1] == "Среди получателей «администраторы» никого нет."


def test_back_after_editing_a_broadcast_does_not_offer_an_empty_one(stream: Stream) -> None:
    headman = stream.headman
    headman.say("рассылка")
    headman.say("Пары не будет")
    headman.press("Готово")
    headman.press("Моей группе")
    confirm = headman.press("Далее")
    assert confirm.texts[0] == "Так сообщение увидят получатели:"
    headman.press("Изменить текст")
    assert headman.dialog() == ("broadcast", "compose")

    back = headman.say("назад")
    back.assert_ordinary()
    assert back.texts[1] == "Пары не будет"  # the message as it was, not an empty preview


def test_a_lesson_change_made_after_going_back_is_only_what_the_confirmation_said(stream: Stream) -> None:
    """«Перенести на другой день», then back to «Что сделать?» and another room: the lesson stays on its day."""
    headman = stream.headman
    tomorrow = this_week.TODAY + timedelta(days=1)
    far = this_week.TODAY + timedelta(days=5)
    headman.say("изменить расписание")
    headman.press("Завтра")
    headman.press("09:00 Общая пара")
    headman.press("Перенести на другой день")
    headman.say(f"{far:%d.%m}")
    assert headman.dialog() == ("timetable_change", "confirm")
    headman.say("назад").assert_ordinary()
    headman.say("назад").assert_ordinary()
    assert headman.dialog() == ("timetable_change", "action")
    headman.press("Другая аудитория")
    confirm = headman.say("214")
    assert confirm.texts[-1].splitlines()[1] == "→ аудитория 214"
    headman.press("Подтвердить").assert_ordinary()

    def changes(session) -> list:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).study_group(stream.bot.community_id, "ИВТ-101")
        return TimetableRepository(session, stream.bot.community_id).changes(group.id, this_week.TODAY, far)

    [change] = stream.bot.database.transaction(changes)
    assert (change.date, change.new_room, change.new_date, change.new_start) == (tomorrow, "214", None, None)
