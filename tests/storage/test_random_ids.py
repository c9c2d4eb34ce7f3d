from hypothesis import given
from hypothesis import strategies as st

from fsm_bot.storage.random_ids import RandomIdRange, random_id_for


@given(st.integers(1, 2**31), st.integers(1, 2**40))
def test_random_ids_are_positive_int32_and_replies_never_meet_broadcasts(base: int, sequence: int) -> None:
    reply = random_id_for(base, sequence, RandomIdRange.REPLIES)
    copy = random_id_for(base, sequence, RandomIdRange.BROADCASTS)
    assert 1 <= reply < 2**30 < copy <= 2**31 - 1


def test_consecutive_sequences_give_distinct_ids() -> None:
    ids = {random_id_for(12345, n, RandomIdRange.BROADCASTS) for n in range(1, 100_001)}
    assert len(ids) == 100_000
