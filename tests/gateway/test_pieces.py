"""The gateway's small pieces: pacing, splitting, error meanings."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from fsm_bot.vk.errors import Outcome, classify
from fsm_bot.vk.limiter import RateLimiter
from fsm_bot.vk.messages import MAX_TEXT_LENGTH, split_text


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_never_allows_more_than_the_rate_in_any_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, window=1.0, margin=0.0, clock=clock)
    granted = []
    for step in range(400):  # 4 simulated seconds in 10 ms steps, a caller trying every step
        clock.now = 100.0 + step * 0.01
        if limiter.try_acquire() is not None:
            granted.append(clock.now)
    assert len(granted) == 80
    for index in range(len(granted) - 20):
        assert granted[index + 20] - granted[index] >= 1.0 - 1e-9


def test_the_limiter_pads_its_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, window=1.0, margin=0.05, clock=clock)
    assert limiter.try_acquire() is not None and limiter.try_acquire() is not None
    clock.now += 1.0
    assert limiter.try_acquire() is None
    assert abs(limiter.delay() - 0.05) < 1e-9
    clock.now += 0.06
    assert limiter.try_acquire() is not None


def test_a_courtesy_call_takes_a_slot_only_while_half_the_window_is_unused() -> None:
    """A courtesy ("typing...", VkClient.spare_slot) leaves half the window to the replies waiting on the token."""
    clock = FakeClock()
    limiter = RateLimiter(20, window=1.0, margin=0.0, clock=clock)
    granted = 0
    while limiter.try_acquire(keep_free=10) is not None:
        granted += 1
    assert granted == 10
    assert limiter.try_acquire() is not None  # the replies still have their half
    clock.now += 1.01
    assert limiter.try_acquire(keep_free=10) is not None


def test_a_slot_counts_from_when_its_request_leaves() -> None:
    """Reserved, then the batch took 40 ms to assemble: the window runs from the send, not the reservation."""
    clock = FakeClock()
    limiter = RateLimiter(1, window=1.0, margin=0.0, clock=clock)
    stamp = limiter.try_acquire()
    assert stamp is not None
    clock.now += 0.04
    limiter.restamp(stamp)
    clock.now += 0.98  # 1.02 s after the reservation, 0.98 s after the send
    assert limiter.try_acquire() is None
    clock.now += 0.03
    assert limiter.try_acquire() is not None


def test_acquire_gives_up_when_the_bot_stops() -> None:
    limiter = RateLimiter(1, window=60.0)
    assert limiter.acquire() is not None
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert limiter.acquire(stop) is None


@given(st.text(alphabet=st.sampled_from("абв эюя.!?\n\t x"), min_size=0, max_size=12000))
def test_split_text_keeps_every_word_and_the_limit(text: str) -> None:
    parts = split_text(text, limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


def test_split_text_prefers_paragraphs_then_sentences() -> None:
    paragraph = "Первое предложение. " * 100  # ~2000 characters
    text = "\n\n".join([paragraph.strip()] * 3)
    parts = split_text(text)
    assert len(parts) == 2
    assert all(len(part) <= MAX_TEXT_LENGTH for part in parts)
    assert parts[0].endswith("предложение.") and "\n\n" in parts[0]
    long_sentences = "Очень длинное предложение без абзацев. " * 300
    parts = split_text(long_sentences)
    assert all(part.rstrip().endswith(".") for part in parts)
    assert split_text("") == [""]
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_error_codes_mean_what_vk_protocol_says() -> None:
    assert [classify(code) for code in (6, 9, 10)] == [Outcome.RETRY] * 3
    assert [classify(code) for code in (900, 901, 902)] == [Outcome.CANNOT_RECEIVE] * 3
    assert [classify(code) for code in (18, 113)] == [Outcome.GONE] * 2
    assert [classify(code) for code in (100, 911, 914)] == [Outcome.BUG] * 3
    assert classify(5) is Outcome.AUTH
    assert classify(7) is Outcome.DENIED
    assert classify(12345) is Outcome.FAILED
