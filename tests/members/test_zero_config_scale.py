"""Zero configuration at scale, on PostgreSQL with two callback workers (issue 17, "done when").

A fresh community of 2,000 members and a manager; nothing configured but the token and the group id.
The members become the community's study group by themselves, and the manager's three-part broadcast to
the group survives kill -9 of a worker with every copy delivered once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage import Database
from fsm_bot.storage.models import Member
from tests.support.bots import TEST_FLOWS
from tests.support.broadcasts import report_of
from tests.support.cluster import Cluster
from tests.support.talk import press, say
from tests.support.waiting import settled, store_of, wait_until

MEMBERS = 2000


@pytest.fixture
def cluster_list() -> Iterator[list[Cluster]]:
    started: list[Cluster] = []
    yield started
    for cluster in started:
        cluster.stop()


def placed(url: str) -> int:
    database = Database(url)
    try:
        query = select(func.count()).select_from(Member).where(Member.study_group_id.is_not(None))
        return int(database.transaction(lambda session: session.scalar(query)) or 0)
    finally:
        database.dispose()


def labels(message: dict) -> list[str]:
    return [button["action"]["label"] for row in message["keyboard"]["buttons"] for button in row]


def test_a_fresh_community_of_2000_broadcast_to_by_two_workers_despite_kill_9(
    sandbox: SandboxClient, postgres_schema_url: str, tmp_path: Path, cluster_list: list[Cluster]
) -> None:
    manager = sandbox.add_user("Анна", "Смирнова", role="administrator")["id"]
    with ThreadPoolExecutor(8) as pool:
        students = list(pool.map(lambda n: sandbox.add_user(f"Имя{n}", f"Студент{n:04d}")["id"], range(MEMBERS)))
    cluster = Cluster(
        sandbox,
        postgres_schema_url,
        tmp_path,
        2,
        flows=TEST_FLOWS,
        vk={"tokens": sandbox.community()["tokens"][:1], "rps_limit": 4},
        extra={"stream": {"community_group": True}},
    )
    cluster_list.append(cluster)
    cluster.start()
    wait_until(lambda: placed(postgres_schema_url) == MEMBERS + 1, 120, "every member in the community's group")

    say(sandbox, manager, "рассылка")
    for part in ["Первая часть: сессия с 10 января.", "Вторая часть: экзамены.", "Третья часть: допуски."]:
        added = say(sandbox, manager, part)[-1]
    [who] = press(sandbox, manager, added, "Готово")
    [group_button] = [label for label in labels(who) if label.startswith("Моей группе")]
    [options] = press(sandbox, manager, who, group_button)
    confirm = press(sandbox, manager, options, "Далее", expect=5)[-1]
    sandbox.inject_fault("execute", 10, count=2)  # the first tries fail: the delivery is under way when we kill
    sandbox.press(manager, confirm["id"], "Отправить")
    wanted = set(students)

    def delivered() -> int:
        return sum(1 for entry in sandbox.log() if entry["peer_id"] in wanted)

    wait_until(lambda: delivered() >= 1, 60, "the first copies out")
    victim = cluster.worker_pids()[0]
    cluster.kill(victim)
    at_kill = delivered()
    wait_until(lambda: delivered() >= 3 * MEMBERS, 120, "every part to everyone", interval=0.5)
    with store_of(postgres_schema_url, sandbox.group_id) as store:
        settled(store, sandbox)
    copies = Counter((entry["peer_id"], entry["text"]) for entry in sandbox.log() if entry["peer_id"] in wanted)
    assert len(copies) == 3 * MEMBERS
    assert set(copies.values()) == {1}, [key for key, count in copies.items() if count > 1][:5]
    assert at_kill < 3 * MEMBERS, "the worker was killed after the delivery had finished"
    wait_until(lambda: "Доставка завершена." in report_of(sandbox, manager)["text"], 30, "the final report")
    assert f"Доставлено: {MEMBERS}" in report_of(sandbox, manager)["text"]
