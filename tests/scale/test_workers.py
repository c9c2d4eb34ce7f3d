"""Several bot processes on one PostgreSQL behind the sandbox's callback push: nothing lost or doubled.

Every test runs `fsm-bot run --workers N` (real processes sharing one listening socket) against the
real PostgreSQL server; the sandbox pushes each update over a new connection, so the kernel spreads
them over the workers, and several are in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from fsm_bot.sandbox.callback import CONFIRMATION_CODE
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.sandbox.fixtures import start_sandbox_server
from fsm_bot.storage import Database
from fsm_bot.storage.models import Dialog, Member, ProcessedEvent
from tests.support.bots import TEST_FLOWS
from tests.support.broadcasts import confirm_group_broadcast, report_of
from tests.support.broadcasts import seed_headman_and_students as seed_broadcast_group
from tests.support.cluster import SECRET, Cluster
from tests.support.people import seed_group
from tests.support.talk import bot_texts, onboard, press, say
from tests.support.waiting import settled, store_of, wait_until

PEOPLE = 200
RECIPIENTS = 5000


@pytest.fixture
def clusters(sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path) -> Iterator[list[Cluster]]:
    """Clusters a test starts (`clusters.append`); all stopped afterwards, even when the test failed."""
    started: list[Cluster] = []
    yield started
    for cluster in started:
        cluster.stop()


def new_cluster(
    clusters: list[Cluster], sandbox: SandboxClient, url: str, folder: Path, workers: int, **options
) -> Cluster:
    cluster = Cluster(sandbox, url, folder, workers, flows=TEST_FLOWS, **options)
    clusters.append(cluster)
    cluster.start()
    return cluster


def query(url: str, statement):  # type: ignore[no-untyped-def]
    database = Database(url)
    try:
        return database.transaction(lambda session: session.execute(statement).all())
    finally:
        database.dispose()


@pytest.mark.parametrize(("workers", "kill_one"), [(2, False), (4, False), (4, True)])
def test_200_people_in_dialogs_at_once_each_end_in_the_right_state(
    sandbox: SandboxClient,
    postgres_schema_url: str,
    tmp_path: Path,
    clusters: list[Cluster],
    workers: int,
    kill_one: bool,
) -> None:
    seed_group(postgres_schema_url, sandbox.group_id)
    cluster = new_cluster(clusters, sandbox, postgres_schema_url, tmp_path, workers)
    people = [sandbox.add_user(f"Имя{n:03d}", f"Фамилия{n:03d}")["id"] for n in range(PEOPLE)]
    if kill_one:
        # kill -9 of a worker while the dialogs are in full swing: the updates it was answering are
        # pushed again by the sandbox, the events it had claimed are taken over when their lease ends.
        victim = cluster.worker_pids()[1]
        timer = threading.Timer(3.0, cluster.kill, args=(victim,))
        timer.start()

    def journey(person: int, n: int) -> None:
        onboard(sandbox, person)  # three steps with buttons: group, confirmation, welcome
        say(sandbox, person, "опрос")
        say(sandbox, person, f"Имя{n:03d}")
        [confirm] = say(sandbox, person, str(16 + n % 30))
        press(sandbox, person, confirm, "Да")

    with ThreadPoolExecutor(50) as pool:
        list(pool.map(journey, people, range(PEOPLE)))
    if kill_one:
        assert cluster.worker_pids()[1] != victim, "the worker was not killed mid-run"

    with store_of(postgres_schema_url, sandbox.group_id) as store:
        settled(store, sandbox)  # every event handled, every reply sent: a doubled one would be here
    for n, person in enumerate(people):
        texts = bot_texts(sandbox, person)
        assert texts[-4:] == [
            "Как вас зовут?",
            "Сколько вам лет?",
            f"Имя{n:03d}, {16 + n % 30}. Верно?",
            f"Спасибо, Имя{n:03d}!",
        ]
        assert len(texts) == 7, texts  # three of onboarding, four of the survey: nothing twice
    active = query(
        postgres_schema_url,
        select(func.count()).select_from(Member).where(Member.vk_id.in_(people), Member.status == "active"),
    )
    assert active[0][0] == PEOPLE
    open_dialogs = query(
        postgres_schema_url, select(Dialog.user_id).where(Dialog.user_id.in_(people), Dialog.flow != "")
    )
    assert open_dialogs == []
    handlers = query(
        postgres_schema_url,
        select(ProcessedEvent.claimed_by, func.count(), func.count(ProcessedEvent.handled_at)).group_by(
            ProcessedEvent.claimed_by
        ),
    )
    assert all(total == handled for _, total, handled in handlers), handlers  # every event handled
    assert len([worker for worker, _, _ in handlers if worker]) >= 2, handlers  # and spread over the workers


def test_a_5000_recipient_broadcast_by_two_workers_reaches_everyone_once_despite_kill_9(
    sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path, clusters: list[Cluster]
) -> None:
    headman = sandbox.add_user("Анна", "Старостина")["id"]
    with ThreadPoolExecutor(8) as pool:
        students = list(pool.map(lambda n: sandbox.add_user(f"Имя{n}", f"Студент{n:04d}")["id"], range(RECIPIENTS)))
    seed_broadcast_group(postgres_schema_url, sandbox.group_id, headman, students)
    # One token at 2 requests/s (1/s per worker): six requests of 2,500 copies take seconds, not a blink.
    cluster = new_cluster(
        clusters,
        sandbox,
        postgres_schema_url,
        tmp_path,
        2,
        vk={"tokens": sandbox.community()["tokens"][:1], "rps_limit": 2},
    )
    parts = ["Первая часть: сессия с 10 января.", "Вторая часть: экзамены.", "Третья часть: допуски."]
    confirm = confirm_group_broadcast(sandbox, headman, parts)
    sandbox.inject_fault("execute", 10, count=2)  # the first tries fail: the delivery is under way when we kill
    sandbox.press(headman, confirm["id"], "Отправить")
    wait_until(lambda: sandbox.stats()["delivered"] >= 2500, 60, "the first copies out")
    victim = cluster.worker_pids()[0]
    cluster.kill(victim)
    delivered_at_kill = sandbox.stats()["delivered"]
    wait_until(lambda: sandbox.stats()["delivered"] >= 3 * RECIPIENTS, 120, "every part to everyone", interval=0.5)
    with store_of(postgres_schema_url, sandbox.group_id) as store:
        settled(store, sandbox)  # every copy final and nothing unsent: anything sent twice is in the log now
    wanted = set(students)
    copies = Counter((entry["peer_id"], entry["text"]) for entry in sandbox.log() if entry["peer_id"] in wanted)
    assert len(copies) == 3 * RECIPIENTS
    assert set(copies.values()) == {1}, [key for key, count in copies.items() if count > 1][:5]
    assert delivered_at_kill < 3 * RECIPIENTS, "the worker was killed after the delivery had finished"
    assert cluster.worker_pids()[0] != victim, "the supervisor did not start the killed worker again"
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, headman)["text"], 30, "the final report")
    assert f"Доставлено: {RECIPIENTS}" in report_of(sandbox, headman)["text"]


def test_the_scheduler_moves_to_another_worker_when_its_leader_is_killed(
    sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path, clusters: list[Cluster]
) -> None:
    seed_group(postgres_schema_url, sandbox.group_id)
    cluster = new_cluster(clusters, sandbox, postgres_schema_url, tmp_path, 2, engine={"dialog_timeout_seconds": 8})
    person = sandbox.add_user("Анна", "Смирнова")["id"]
    onboard(sandbox, person)
    leader = wait_until(cluster.leader_pid, 10, "a leader")
    say(sandbox, person, "опрос")  # the dialog times out in 8 s: a job of whoever leads then
    cluster.kill(leader)
    killed_at = time.monotonic()
    new_leader = wait_until(lambda: (pid := cluster.leader_pid()) != leader and pid, 20, "another leader")
    took_over = time.monotonic() - killed_at
    assert new_leader in cluster.worker_pids().values()
    timed_out = "Время на ответ истекло"
    wait_until(lambda: any(timed_out in text for text in bot_texts(sandbox, person)), 30, "the dialog's timeout")
    with store_of(postgres_schema_url, sandbox.group_id) as store:
        settled(store, sandbox)  # the dialog has no deadline left and nothing is unsent: no second notice
    assert sum(timed_out in text for text in bot_texts(sandbox, person)) == 1
    print(f"scheduler taken over {took_over:.1f}s after kill -9 of its leader")


def test_vk_retries_of_one_event_reaching_different_workers_are_handled_once(
    sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path, clusters: list[Cluster]
) -> None:
    seed_group(postgres_schema_url, sandbox.group_id)
    cluster = new_cluster(clusters, sandbox, postgres_schema_url, tmp_path, 4)
    person = sandbox.add_user("Анна", "Смирнова")["id"]
    onboard(sandbox, person)
    before = len(bot_texts(sandbox, person))
    update = {
        "group_id": sandbox.group_id,
        "type": "message_new",
        "event_id": "retried-event-0001",
        "v": "5.199",
        "secret": SECRET,
        "object": {
            "message": {
                "id": 0,
                "date": int(time.time()),
                "from_id": person,
                "peer_id": person,
                "text": "опрос",
                "conversation_message_id": 9001,
                "out": 0,
                "attachments": [],
                "fwd_messages": [],
            },
            "client_info": {"button_actions": ["text", "callback"], "keyboard": True, "inline_keyboard": True},
        },
    }
    body = json.dumps(update, ensure_ascii=False).encode()
    answers: list[str] = []
    gate = threading.Barrier(8)

    def deliver(attempt: int) -> None:
        gate.wait()  # all at once, each over its own connection: the kernel spreads them over the workers
        response = requests.post(
            cluster.url,
            data=body,
            headers={"Content-Type": "application/json", "X-Retry-Counter": str(attempt), "Connection": "close"},
            timeout=10,
        )
        answers.append(response.text)

    threads = [threading.Thread(target=deliver, args=(attempt,)) for attempt in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["ok"] * 8
    wait_until(lambda: len(bot_texts(sandbox, person)) > before, 15, "the answer")
    with store_of(postgres_schema_url, sandbox.group_id) as store:
        settled(store, sandbox)  # the event is handled and its reply sent: a second answer would be here
    assert bot_texts(sandbox, person)[before:] == ["Как вас зовут?"]
    rows = query(postgres_schema_url, select(ProcessedEvent.id).where(ProcessedEvent.event_id == "retried-event-0001"))
    assert len(rows) == 1


def test_one_set_of_workers_serves_two_communities_routed_by_group_id(
    sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path, clusters: list[Cluster]
) -> None:
    other_server = start_sandbox_server(group_id=sandbox.group_id + 1)
    try:
        other = SandboxClient(other_server.url)
        details = other.community()
        cluster = Cluster(
            sandbox,
            postgres_schema_url,
            tmp_path,
            2,
            flows=TEST_FLOWS,
            extra={
                "communities": [
                    {
                        "group_id": details["group_id"],
                        "tokens": details["tokens"],
                        "api_url": details["api_url"],
                        "secret": "another-secret",
                        "confirmation": CONFIRMATION_CODE,
                    }
                ]
            },
        )
        clusters.append(cluster)
        cluster.start()
        other.set_callback(cluster.url, "another-secret", connections=4, keep_alive=False)
        first = sandbox.add_user("Анна", "Первая")["id"]
        second = other.add_user("Борис", "Второй")["id"]
        sandbox.send(first, "помощь")
        other.send(second, "помощь")
        sandbox.wait_for_messages(first, 1, timeout=20)
        other.wait_for_messages(second, 1, timeout=20)
        by_community = dict(
            query(
                postgres_schema_url,
                select(ProcessedEvent.community_id, func.count()).group_by(ProcessedEvent.community_id),
            )
        )
        assert set(by_community) == {sandbox.group_id, sandbox.group_id + 1}
    finally:
        other.set_callback(None)
        other_server.stop()
