"""A group's timetable from a web address (settings `timetable.feeds`, issue 17 point 4): real bot, real
database, the sandbox as VK, and a small HTTP server on 127.0.0.1 as the university's calendar.

The refresh job is driven directly (its scheduled run is removed, so nothing races the story): the first
fetch applies the week and a subscriber gets the digest; the next one sends the ETag back, gets 304 and
nothing happens; a new file applies again. A server error, no answer, a 2 MB body and a broken file each
reach the headman once across two refreshes and change nothing; the feed's recovery is told once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import ValidationError

from fsm_bot.config import Settings
from fsm_bot.runtime import feed_fetch
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.services.timetable_feed import FeedReport
from fsm_bot.storage.repositories import (
    CommunityRepository,
    MemberRepository,
    SubscriptionRepository,
    TimetableRepository,
)
from fsm_bot.storage.timetable_models import SubscriptionKind
from fsm_bot.texts import Texts
from fsm_bot.timetable import Slot, export_ics
from tests.support.people import enrol
from tests.support.waiting import settled
from tests.support.week import MOSCOW, SEMESTER, SLOTS, seed

RU = Texts.load("ru")  # the words of a moved lesson's note

StartBot = Callable[..., Bot]
GROUP = "ИВТ-101"
AUTOMATA = Slot(0, clock(16, 0), clock(17, 30), "Теория автоматов", "лекция", "", "404")
COMPILERS = Slot(2, clock(18, 0), clock(19, 30), "Компиляторы", "семинар", "", "118")


def ics(*slots: Slot) -> bytes:
    return export_ics(GROUP, SEMESTER, list(slots), [], MOSCOW, SEMESTER.start, SEMESTER.end, t=RU)


class Calendar:
    """What the university's server answers: a body with its ETag, or a way to fail."""

    def __init__(self) -> None:
        self.body, self.etag, self.failure = ics(AUTOMATA), '"a"', ""
        self.seen: list[str | None] = []  # If-None-Match of each request

    def publish(self, body: bytes, etag: str) -> None:
        self.body, self.etag, self.failure = body, etag, ""


def _handler(calendar: Calendar) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calendar.seen.append(self.headers.get("If-None-Match"))
            if calendar.failure == "500":
                self.send_response(500)
                self.end_headers()
            elif calendar.failure == "silent":
                time.sleep(1.5)  # past the fetch's timeout (0.5 s here)
            elif calendar.failure == "huge":
                self.send_response(200)
                self.end_headers()  # no Content-Length: the cap must hold while reading
                for _ in range(32):
                    self.wfile.write(b"X" * 65536)  # 2 MB
            elif self.headers.get("If-None-Match") == calendar.etag:
                self.send_response(304)
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("ETag", calendar.etag)
                self.send_header("Content-Length", str(len(calendar.body)))
                self.end_headers()
                self.wfile.write(calendar.body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def calendar() -> Iterator[tuple[Calendar, str]]:
    served = Calendar()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/ivt-101.ics"
    server.shutdown()
    server.server_close()


@pytest.fixture
def group(
    sandbox: SandboxClient, database_url: str, start_bot: StartBot, calendar: tuple[Calendar, str]
) -> tuple[Bot, int, int]:
    seed(database_url, sandbox.group_id)
    headman = sandbox.add_user("Анна", "Смирнова")["id"]
    student = sandbox.add_user("Пётр", "Первый")["id"]
    feeds = [{"group": GROUP, "url": calendar[1], "every_minutes": 60}]
    bot = start_bot(stream={"groups": {GROUP: {"headman": headman}}}, timetable={"feeds": feeds})
    enrol(bot, student, 1)

    def subscribe(session) -> None:  # type: ignore[no-untyped-def]
        member = MemberRepository(session, bot.community_id).get(student)
        assert member is not None
        SubscriptionRepository(session, bot.community_id).put(member.id, SubscriptionKind.BEFORE_EACH, None, 15)

    bot.database.transaction(subscribe)
    assert bot.scheduler is not None
    assert bot.scheduler.job_ids("timetable-feed:") == [f"timetable-feed:{bot.community_id}:{GROUP}"]
    bot.scheduler.remove_jobs("timetable-feed:")  # the story drives the refreshes itself
    return bot, headman, student


def refresh(bot: Bot) -> FeedReport:
    assert bot.timekeeper is not None
    return bot.timekeeper.refresh_feed(GROUP)


def stored_week(bot: Bot) -> list[Slot]:
    def read(session) -> list[Slot]:  # type: ignore[no-untyped-def]
        found = CommunityRepository(session).find_group(bot.community_id, GROUP)
        assert found is not None
        return TimetableRepository(session, bot.community_id).slots(found.id)

    return bot.database.transaction(read)


def bot_texts(sandbox: SandboxClient, user: int) -> list[str]:
    return [message["text"] for message in sandbox.messages(user) if message["from"] == "bot"]


def test_a_feed_applies_a_new_week_then_answers_304_with_nothing_then_applies_a_change(
    sandbox: SandboxClient, group: tuple[Bot, int, int], calendar: tuple[Calendar, str]
) -> None:
    bot, headman, student = group
    served, _url = calendar
    before = len(bot_texts(sandbox, student))

    assert refresh(bot).applied
    [digest] = sandbox.wait_for_messages(student, before + 1)[before:]
    assert digest["text"].startswith(f"🗓 Новое расписание группы {GROUP}: пар в неделю 1.")
    assert "Добавлены:\n• Пн 16:00–17:30 Теория автоматов" in digest["text"]
    assert "Убраны:\n• Пн 09:00–10:30 Общая пара" in digest["text"]
    assert stored_week(bot) == [AUTOMATA]

    assert refresh(bot) == FeedReport()
    assert served.seen[-1] == '"a"'  # the ETag went back, and the server said 304
    settled(bot, sandbox)
    assert len(bot_texts(sandbox, student)) == before + 1
    assert stored_week(bot) == [AUTOMATA]

    served.publish(ics(AUTOMATA, COMPILERS), '"b"')
    report = refresh(bot)
    assert report.applied and report.messages == 1
    [change] = sandbox.wait_for_messages(student, before + 2)[before + 1 :]
    assert change["text"].startswith(f"🗓 Новое расписание группы {GROUP}: пар в неделю 2.")
    assert "Добавлены:\n• Ср 18:00–19:30 Компиляторы" in change["text"] and "Убраны" not in change["text"]
    assert stored_week(bot) == [AUTOMATA, COMPILERS]
    settled(bot, sandbox)
    assert bot_texts(sandbox, headman) == []  # nothing went wrong: the headman hears nothing


def test_each_problem_reaches_the_headman_once_changes_nothing_and_the_recovery_is_told(
    sandbox: SandboxClient,
    group: tuple[Bot, int, int],
    calendar: tuple[Calendar, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot, headman, student = group
    served, _url = calendar
    monkeypatch.setattr(feed_fetch, "FETCH_TIMEOUT", 0.5)
    student_before = len(bot_texts(sandbox, student))
    problems = [
        ("500", "сервер ответил ошибкой 500"),
        ("silent", "сервер не ответил за 0.5 с"),
        ("huge", "файл больше 1 МБ"),
        ("broken", "в файле ошибки:"),
    ]
    for number, (failure, words) in enumerate(problems, start=1):
        if failure == "broken":
            served.publish(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:\r\n", '"broken"')
        else:
            served.failure = failure
        assert refresh(bot).messages == 1
        assert refresh(bot) == FeedReport()  # the same problem again: not told twice
        told = sandbox.wait_for_messages(headman, number)
        assert len(told) == number, [m["text"] for m in told]
        assert told[-1]["text"].startswith(f"⚠️ Расписание группы {GROUP} не обновилось по ссылке из настроек: ")
        assert words in told[-1]["text"], told[-1]["text"]
        assert stored_week(bot) == SLOTS

    settled(bot, sandbox)
    assert len(bot_texts(sandbox, headman)) == len(problems)
    assert len(bot_texts(sandbox, student)) == student_before  # a broken feed never reaches students

    served.publish(ics(AUTOMATA), '"a"')
    assert refresh(bot).applied
    recovered = sandbox.wait_for_messages(headman, len(problems) + 1)[-1]
    assert recovered["text"] == f"✅ Ссылка на расписание группы {GROUP} снова работает."
    sandbox.wait_for_messages(student, student_before + 1)
    assert refresh(bot) == FeedReport()
    settled(bot, sandbox)
    assert len(bot_texts(sandbox, headman)) == len(problems) + 1
    assert stored_week(bot) == [AUTOMATA]


@pytest.mark.parametrize(
    ("feed", "words"),
    [
        ({"group": GROUP, "url": "ftp://university.example/ivt.ics"}, "is not an http:// or https:// address"),
        ({"group": GROUP, "url": "file:///etc/passwd"}, "is not an http:// or https:// address"),
        ({"group": GROUP, "url": "https://u.example/a.ics", "every_minutes": 4}, "greater than or equal to 5"),
    ],
)
def test_the_settings_refuse_a_feed_that_is_not_on_the_web_or_too_frequent(feed: dict, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Settings(timetable={"feeds": [feed]})
