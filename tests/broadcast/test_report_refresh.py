"""The live report's refresher: one process edits, a new one catches up, an edit VK did not take is tried again.

Each test lets a real bot deliver a broadcast through the sandbox and show its final report, stops that bot's
own refresher, and then drives a ReportUpdater of its own over the same database, as another process would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.services.reports import ReportUpdater
from fsm_bot.storage.models import Broadcast, Role
from fsm_bot.storage.repositories import BroadcastRepository
from fsm_bot.vk.client import VkClient
from tests.support.broadcasts import compose_and_send, group_of, report_of
from tests.support.people import enrolled
from tests.support.talk import press
from tests.support.waiting import wait_until

StartBot = Callable[..., Bot]
FINAL = "Доставка завершена."


@pytest.fixture
def client(sandbox: SandboxClient) -> Iterator[VkClient]:
    """Another process's client: gives up on a failing method after two tries."""
    made = VkClient([sandbox.token], sandbox.api_url, max_attempts=2, base_delay=0.01, max_delay=0.05)
    yield made
    made.stop.set()


def delivered_broadcast(sandbox: SandboxClient, start_bot: StartBot) -> tuple[Bot, int]:
    """A bot whose broadcast to two students is out and whose report says so; its refresher stopped."""
    bot = start_bot()
    headman = enrolled(sandbox, bot, "Анна", "Старостина", role=Role.HEADMAN)
    group_of(sandbox, bot, 2)
    press(sandbox, headman, compose_and_send(sandbox, headman, "Собрание в 18:00"), "Отправить", expect=2)
    wait_until(lambda: FINAL in report_of(sandbox, headman)["text"], what="the final report")
    assert bot.reports is not None
    bot.reports.stop()
    return bot, headman


def report_state(bot: Bot) -> Broadcast:
    def read(session) -> Broadcast:  # type: ignore[no-untyped-def]
        broadcast = BroadcastRepository(session, bot.community_id).get(1)
        assert broadcast is not None
        session.expunge(broadcast)
        return broadcast

    return bot.database.transaction(read)


def set_dirty(bot: Bot, dirty: bool) -> None:
    def flag(session) -> None:  # type: ignore[no-untyped-def]
        broadcast = BroadcastRepository(session, bot.community_id).get(1)
        assert broadcast is not None
        broadcast.report_dirty = dirty

    bot.database.transaction(flag)


def make_stale(sandbox: SandboxClient, client: VkClient, bot: Bot, headman: int, dirty: bool) -> None:
    """The report as an older tally left it, as if that edit had reached VK last; flagged `dirty` or not."""
    report = report_of(sandbox, headman)
    stale = report["text"].replace(FINAL, "В очереди: 2")
    client.call("messages.edit", {"peer_id": headman, "message_id": report["id"], "message": stale})
    assert FINAL not in report_of(sandbox, headman)["text"]
    set_dirty(bot, dirty)


def updater(bot: Bot, client: VkClient, leading: threading.Event) -> ReportUpdater:
    return ReportUpdater(bot.database, bot.community_id, bot.catalogs, client, leading)


def leader(bot: Bot, client: VkClient) -> ReportUpdater:
    """The refresher of the process that leads."""
    leading = threading.Event()
    leading.set()
    return updater(bot, client, leading)


def test_only_the_leader_edits_reports(sandbox: SandboxClient, start_bot: StartBot, client: VkClient) -> None:
    bot, headman = delivered_broadcast(sandbox, start_bot)
    make_stale(sandbox, client, bot, headman, dirty=True)
    leading = threading.Event()
    follower = updater(bot, client, leading)
    assert follower.refresh() == 0
    assert report_state(bot).report_dirty  # left for the leader
    assert FINAL not in report_of(sandbox, headman)["text"]
    leading.set()  # this process leads from now on
    assert follower.refresh() == 1
    assert FINAL in report_of(sandbox, headman)["text"]
    assert not report_state(bot).report_dirty
    assert follower.refresh() == 0  # nothing changed since


def test_a_new_leader_refreshes_a_report_its_predecessor_cleared_but_never_edited(
    sandbox: SandboxClient, start_bot: StartBot, client: VkClient
) -> None:
    bot, headman = delivered_broadcast(sandbox, start_bot)
    make_stale(sandbox, client, bot, headman, dirty=False)  # the old leader cleared the flag, died before its edit
    assert leader(bot, client).refresh() == 1
    assert FINAL in report_of(sandbox, headman)["text"]


def test_an_edit_vk_did_not_take_for_a_while_is_tried_again(
    sandbox: SandboxClient, start_bot: StartBot, client: VkClient
) -> None:
    bot, headman = delivered_broadcast(sandbox, start_bot)
    make_stale(sandbox, client, bot, headman, dirty=True)
    refresher = leader(bot, client)
    sandbox.inject_fault("messages.edit", 10, count=2)  # both of the client's tries
    assert refresher.refresh() == 0
    assert report_state(bot).report_dirty
    assert refresher.refresh() == 1
    assert FINAL in report_of(sandbox, headman)["text"]
    assert not report_state(bot).report_dirty


def test_an_edit_vk_refuses_is_set_aside_not_repeated(
    sandbox: SandboxClient, start_bot: StartBot, client: VkClient
) -> None:
    bot, headman = delivered_broadcast(sandbox, start_bot)
    make_stale(sandbox, client, bot, headman, dirty=True)
    refresher = leader(bot, client)
    sandbox.inject_fault("messages.edit", 100)  # a bug in that edit, not an outage: asking again would not help
    assert refresher.refresh() == 0
    assert not report_state(bot).report_dirty
    assert refresher.refresh() == 0
    assert FINAL not in report_of(sandbox, headman)["text"]
