"""Which reminders fall due, and that each goes out once: the clock is the `now` every run is given.

Runs are made at chosen instants (a controlled clock), on SQLite and PostgreSQL; what a run queued
is read back from the reply outbox, the way the sender will find it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from fsm_bot.delivery.replies import ReplyQueue
from fsm_bot.runtime.bot import FLOW_CATALOGS
from fsm_bot.scheduler.reminders import ReminderPolicy, fire_due_reminders, upcoming_instants
from fsm_bot.storage.models import OutgoingMessage
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind, TimetableSlot
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Catalogs
from fsm_bot.timetable import Change, ChangeKind
from tests.support.autumn import COMMUNITY, MOSCOW, SLOTS, Stream

POLICY = ReminderPolicy(MOSCOW, late_drop=timedelta(minutes=10), digest_grace=timedelta(hours=12))


def at(day: date, clock: str, tz: ZoneInfo = MOSCOW) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz)


def fire(stream: Stream, now: datetime, policy: ReminderPolicy = POLICY):  # type: ignore[no-untyped-def]
    return fire_due_reminders(stream.database, COMMUNITY, policy, stream.texts, now)


def outbox(stream: Stream) -> list[tuple[int, str]]:
    rows = stream.database.transaction(
        lambda session: [
            (row.peer_id, row.text) for row in session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id))
        ]
    )
    return rows


def texts_for(stream: Stream, peer: int) -> list[str]:
    return [text for peer_id, text in outbox(stream) if peer_id == peer]


def test_the_evening_digest_shows_tomorrow_for_each_subgroup_once(stream: Stream) -> None:
    first, second, whole = stream.student(1, 1), stream.student(2, 2), stream.student(3, None)
    for member in (first, second, whole):
        stream.subscribe(member, SubscriptionKind.DIGEST, time(20, 0))
    monday = date(2026, 11, 30)

    assert fire(stream, at(monday, "19:59")).sent == 0
    report = fire(stream, at(monday, "20:00"))
    assert report.sent == 3

    [first_text] = texts_for(stream, 1)
    [second_text] = texts_for(stream, 2)
    [whole_text] = texts_for(stream, 3)
    assert first_text.startswith("Расписание на завтра:\n📅 Вт, 01.12 · чётная неделя")
    assert "Линейная алгебра" in first_text and "Программирование" not in first_text
    assert "Линейная алгебра" in second_text and "Программирование" in second_text
    assert "[подгр. 2]" in whole_text  # a student of no subgroup sees which lesson is whose

    for later in ("20:00", "20:01", "23:59"):
        assert fire(stream, at(monday, later)).sent == 0
    assert len(outbox(stream)) == 3


def test_week_parity_decides_which_lessons_are_reminded(stream: Stream) -> None:
    member = stream.student(1, 1)
    stream.subscribe(member, SubscriptionKind.BEFORE_EACH, lead=10)
    # Monday 2026-11-23 is in an odd week (Физика for subgroup 1), Monday 2026-11-30 in an even one.
    assert fire(stream, at(date(2026, 11, 23), "08:50")).sent == 1  # Матанализ, every week
    assert fire(stream, at(date(2026, 11, 23), "10:35")).sent == 1
    assert fire(stream, at(date(2026, 11, 30), "08:50")).sent == 1
    assert fire(stream, at(date(2026, 11, 30), "10:35")).sent == 0
    sent = texts_for(stream, 1)
    assert [text.count("Физика") for text in sent] == [0, 1, 0]


def test_a_holiday_gets_no_digest_and_no_reminders(stream: Stream) -> None:
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.DIGEST, time(20, 0))
    other = stream.student(2, None)
    stream.subscribe(other, SubscriptionKind.BEFORE_FIRST, lead=15)
    assert fire(stream, at(date(2026, 11, 3), "20:00")).sent == 0  # Wednesday 04.11 is a holiday
    assert fire(stream, at(date(2026, 11, 4), "08:45")).sent == 0
    assert fire(stream, at(date(2026, 11, 10), "20:00")).sent == 1  # the next Wednesday is not
    assert fire(stream, at(date(2026, 11, 11), "08:45")).sent == 1


def test_a_cancelled_lesson_is_not_reminded_and_a_moved_one_is_at_its_new_time(stream: Stream) -> None:
    first, second = stream.student(1, 1), stream.student(2, 2)
    stream.subscribe(first, SubscriptionKind.BEFORE_FIRST, lead=15)
    stream.subscribe(second, SubscriptionKind.BEFORE_FIRST, lead=15)
    tuesday = date(2026, 12, 1)
    algebra = stream.slot_ids[2]

    def change(session) -> None:  # type: ignore[no-untyped-def]
        TimetableRepository(session, COMMUNITY).add_change(
            stream.group_id,
            Change(
                ChangeKind.MOVE, tuesday, slot_id=algebra, new_start=time(13, 0), new_end=time(14, 30), new_room="101"
            ),
            created_by=9,
        )

    stream.database.transaction(change)
    assert fire(stream, at(tuesday, "08:45")).sent == 0  # nobody's first lesson is at 09:00 any more
    assert fire(stream, at(tuesday, "10:30")).sent == 1  # subgroup 2: Программирование comes first now
    assert texts_for(stream, 2)[0].startswith("Через 15 мин. первая пара:\n10:45–12:15 Программирование")
    assert fire(stream, at(tuesday, "12:45")).sent == 1  # subgroup 1: the moved lesson
    [moved] = texts_for(stream, 1)
    assert "13:00–14:30 Линейная алгебра" in moved and "ауд. 101" in moved and "перенесено" in moved

    def cancel(session) -> None:  # type: ignore[no-untyped-def]
        repository = TimetableRepository(session, COMMUNITY)
        repository.remove_changes_of(stream.group_id, algebra, date(2026, 12, 8))
        repository.add_change(stream.group_id, Change(ChangeKind.CANCEL, date(2026, 12, 8), slot_id=algebra), 9)

    stream.database.transaction(cancel)
    assert fire(stream, at(date(2026, 12, 8), "08:45")).sent == 0


def test_before_each_lesson_reminds_at_every_start(stream: Stream) -> None:
    member = stream.student(2, 2)
    stream.subscribe(member, SubscriptionKind.BEFORE_EACH, lead=10)
    tuesday = date(2026, 12, 1)
    assert fire(stream, at(tuesday, "08:50")).sent == 1
    assert fire(stream, at(tuesday, "10:35")).sent == 1
    first, second = texts_for(stream, 2)
    assert {first.splitlines()[1][:11], second.splitlines()[1][:11]} == {"09:00–10:30", "10:45–12:15"}


def test_a_reminder_too_late_is_dropped_and_recorded_as_dropped(stream: Stream) -> None:
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_FIRST, lead=15)
    tuesday = date(2026, 12, 1)
    report = fire(stream, at(tuesday, "08:56"))  # due 08:45, 11 minutes late: the bot was down
    assert (report.sent, report.dropped) == (0, 1)
    assert outbox(stream) == []
    fired = stream.database.transaction(
        lambda session: [(r.occurrence, r.outcome) for r in SubscriptionRepository(session, COMMUNITY).fired()]
    )
    assert fired == [("first:2026-12-01", "dropped")]
    assert fire(stream, at(tuesday, "08:57")).dropped == 0  # dropped once, not every run


def test_a_late_reminder_within_the_limit_is_still_sent(stream: Stream) -> None:
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_FIRST, lead=15)
    assert fire(stream, at(date(2026, 12, 1), "08:54")).sent == 1


def test_a_late_digest_is_sent_until_its_day_begins(stream: Stream) -> None:
    early, late, too_late = stream.student(1, None), stream.student(2, None), stream.student(3, None)
    stream.subscribe(early, SubscriptionKind.DIGEST, time(20, 0))
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    assert fire(stream, at(monday, "23:30")).sent == 1  # three and a half hours late, still the evening
    assert texts_for(stream, 1)[0].startswith("Расписание на завтра")

    stream.subscribe(late, SubscriptionKind.DIGEST, time(21, 0))
    assert fire(stream, at(tuesday, "07:30")).sent == 1  # after midnight it says "today"
    assert texts_for(stream, 2)[0].startswith("Расписание на сегодня")

    stream.subscribe(too_late, SubscriptionKind.DIGEST, time(22, 0))
    report = fire(stream, at(tuesday, "09:05"))  # the first lesson began at 09:00
    assert (report.sent, report.dropped) == (0, 1)


def test_a_dst_observing_time_zone_reminds_at_local_time_on_both_sides_of_the_change(stream: Stream) -> None:
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends on Sunday 2026-10-25 at 03:00 -> 02:00
    policy = ReminderPolicy(berlin)
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_FIRST, lead=15)
    digest = stream.student(2, None)
    stream.subscribe(digest, SubscriptionKind.DIGEST, time(20, 0))

    # 20:00 CET on Sunday is 19:00 UTC; 09:00 CET on Monday is 08:00 UTC.
    assert fire(stream, datetime(2026, 10, 25, 18, 59, 59, tzinfo=UTC), policy).sent == 0
    assert fire(stream, datetime(2026, 10, 25, 19, 0, tzinfo=UTC), policy).sent == 1
    assert fire(stream, datetime(2026, 10, 26, 7, 44, 59, tzinfo=UTC), policy).sent == 0
    assert fire(stream, datetime(2026, 10, 26, 7, 45, tzinfo=UTC), policy).sent == 1
    # Before the change, Tuesday 20.10 09:00 CEST is 07:00 UTC: the reminder is due at 06:45 UTC.
    assert fire(stream, datetime(2026, 10, 20, 6, 44, 59, tzinfo=UTC), policy).sent == 0
    assert fire(stream, datetime(2026, 10, 20, 6, 45, tzinfo=UTC), policy).sent == 1

    instants = upcoming_instants(
        stream.database, COMMUNITY, policy, datetime(2026, 10, 25, 12, 0, tzinfo=UTC), timedelta(hours=24)
    )
    assert instants == [datetime(2026, 10, 25, 19, 0, tzinfo=UTC), datetime(2026, 10, 26, 7, 45, tzinfo=UTC)]


def test_reminders_with_the_same_text_leave_as_one_batched_call(stream: Stream) -> None:
    members = [stream.student(1000 + n, 1) for n in range(150)]
    for member in members:
        stream.subscribe(member, SubscriptionKind.DIGEST, time(20, 0))
    report = fire(stream, at(date(2026, 11, 30), "20:00"))
    assert (report.sent, report.messages) == (150, 1)

    queue = ReplyQueue(COMMUNITY, claim_limit=1000)
    claimed, _ = stream.database.transaction(
        lambda session: queue.claim(session, set(), utcnow() + timedelta(seconds=30))
    )
    # One execute request: two messages.send calls with peer_ids of 100 and 50.
    assert sorted(len(item.unit.peer_ids) for item in claimed) == [50, 100]


def test_members_who_left_or_have_no_group_get_nothing(stream: Stream) -> None:
    stayed, left = stream.student(1, None), stream.student(2, None)
    for member in (stayed, left):
        stream.subscribe(member, SubscriptionKind.DIGEST, time(20, 0))

    def leave(session) -> None:  # type: ignore[no-untyped-def]
        from fsm_bot.storage.repositories import MemberRepository

        MemberRepository(session, COMMUNITY).mark_left(2)

    stream.database.transaction(leave)
    assert fire(stream, at(date(2026, 11, 30), "20:00")).sent == 1
    assert [peer for peer, _ in outbox(stream)] == [1]


def test_a_timetable_without_semester_still_reminds_every_week(stream: Stream) -> None:
    def clear(session) -> None:  # type: ignore[no-untyped-def]
        from fsm_bot.storage.timetable_models import TimetableCalendar

        session.delete(session.get(TimetableCalendar, COMMUNITY))

    stream.database.transaction(clear)
    member = stream.student(1, None)
    stream.subscribe(member, SubscriptionKind.BEFORE_FIRST, lead=15)
    assert fire(stream, at(date(2027, 2, 9), "08:45")).sent == 1  # a Tuesday outside any semester


def test_a_group_whose_timetable_cannot_be_read_does_not_stop_other_groups_reminders(stream: Stream) -> None:
    """A slot row with a week parity no version knows (a hand edit, a downgrade): before, the whole
    run raised at every minute and nobody in any group was reminded again."""

    def second_group(session) -> int:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).study_group(COMMUNITY, "ИВТ-102")
        TimetableRepository(session, COMMUNITY).replace_slots(group.id, SLOTS)
        session.execute(update(TimetableSlot).where(TimetableSlot.study_group_id == group.id).values(weeks="bogus"))
        return group.id

    broken_group = stream.database.transaction(second_group)
    broken, fine = stream.student(1, None, group_id=broken_group), stream.student(2, None)
    stream.subscribe(broken, SubscriptionKind.BEFORE_FIRST, lead=15)
    stream.subscribe(fine, SubscriptionKind.BEFORE_FIRST, lead=15)
    tuesday = date(2026, 12, 1)
    assert fire(stream, at(tuesday, "08:45")).sent == 1
    assert len(texts_for(stream, 2)) == 1 and texts_for(stream, 1) == []


def test_each_subscriber_reads_the_digest_in_their_language(stream: Stream) -> None:
    """The same digest, rendered once per language: the member who chose English reads it in English."""
    russian, english = stream.student(1, 1), stream.student(2, 1)
    for member in (russian, english):
        stream.subscribe(member, SubscriptionKind.DIGEST, time(20, 0))

    def choose_english(session) -> None:  # type: ignore[no-untyped-def]
        member = MemberRepository(session, COMMUNITY).get(2)
        assert member is not None
        member.locale = "en"

    stream.database.transaction(choose_english)
    catalogs = Catalogs.load("ru", [FLOW_CATALOGS])
    report = fire_due_reminders(stream.database, COMMUNITY, POLICY, catalogs, at(date(2026, 11, 30), "20:00"))
    assert (report.sent, report.messages) == (2, 2)
    [russian_text] = texts_for(stream, 1)
    [english_text] = texts_for(stream, 2)
    assert russian_text.startswith("Расписание на завтра:\n📅 Вт, 01.12 · чётная неделя")
    assert english_text.startswith("Tomorrow's timetable:\n📅 Tue, 01.12 · even week")
