"""Backoff and outage logging: the pieces that keep a VK outage from flooding VK or the log."""

from __future__ import annotations

import logging
import random

import pytest

from fsm_bot.vk.backoff import Backoff, Outage


def test_delays_grow_to_the_cap_with_jitter_and_reset_after_a_success() -> None:
    backoff = Backoff(initial=0.2, maximum=30.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(12)]
    for attempt, delay in enumerate(delays):
        ceiling = min(30.0, 0.2 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jitter: no two bots retry in lockstep
    backoff.reset()
    assert 0.1 <= backoff.next_delay() <= 0.2


def test_nonsense_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(initial=5, maximum=1)


def test_an_outage_is_logged_when_it_starts_and_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [100.0]
    outage = Outage(logging.getLogger("test.outage"), "long poll", clock=lambda: now[0])
    outage.recovered()  # no outage: nothing to say
    for reason in ("connection lost (ReadTimeout)", "connection lost (ConnectionError)", "HTTP 500"):
        outage.failed(reason)
        now[0] += 1.4
    outage.recovered()
    assert [r.getMessage() for r in caplog.records] == [
        "long poll: connection lost (ReadTimeout); retrying",
        "long poll: recovered after 3 failures / 4.2 s",
    ]
    assert not outage.active
