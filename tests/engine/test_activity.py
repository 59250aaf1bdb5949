"""The activity memo: when a verification should record its session's activity
(sans-I/O, at given times)."""

from __future__ import annotations

import threading

import pytest

from tessera.engine.activity import ActivityMemo
from tessera.storage import SessionActivity

MINUTE = 60_000
T0 = 1_800_000_000_000


def test_at_most_one_record_per_interval_per_session() -> None:
    memo = ActivityMemo(MINUTE)
    taken = [
        t for t in range(T0, T0 + 10 * MINUTE, 1000) if memo.take("h1", t, "203.0.113.9", "ua")
    ]
    # One verification a second for ten minutes: one record a minute.
    assert taken == [T0 + i * MINUTE for i in range(10)]
    assert memo.take("h2", T0 + 1, None, None) == SessionActivity("h2", T0 + 1, None, None)


def test_is_due_agrees_with_take() -> None:
    memo = ActivityMemo(MINUTE)
    assert memo.is_due("h1", T0)
    memo.take("h1", T0, None, None)
    assert not memo.is_due("h1", T0 + MINUTE - 1)
    assert memo.is_due("h1", T0 + MINUTE)


def test_creation_and_refresh_count_as_recorded() -> None:
    memo = ActivityMemo(MINUTE)
    memo.recorded("h1", T0)
    assert memo.take("h1", T0 + MINUTE - 1, None, None) is None
    assert memo.take("h1", T0 + MINUTE, None, None) is not None


def test_the_memo_is_bounded_and_forgets_the_oldest_first() -> None:
    memo = ActivityMemo(MINUTE, capacity=100)
    for i in range(1000):
        memo.take(f"h{i}", T0 + i, None, None)
    assert len(memo) == 100
    assert set(memo.next_write) == {f"h{i}" for i in range(900, 1000)}
    # A forgotten session is due again (the store's condition still stops the write).
    assert memo.take("h0", T0 + 1000, None, None) is not None
    # One recorded again moves to the newest end and so stays.
    memo.take("h900", T0 + MINUTE + 900, None, None)
    for i in range(1000, 1099):
        memo.take(f"h{i}", T0 + MINUTE + i, None, None)
    assert "h900" in memo.next_write
    assert "h901" not in memo.next_write


def test_racing_threads_take_one_record() -> None:
    memo = ActivityMemo(MINUTE)
    start = threading.Barrier(8)
    taken: list[object] = []

    def verify() -> None:
        start.wait()
        taken.append(memo.take("h1", T0, None, None))

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(record is not None for record in taken) == 1


def test_addresses_and_agents_are_cleaned_and_bounded() -> None:
    memo = ActivityMemo(MINUTE)
    record = memo.take("h1", T0, "1" * 100, "agent\x00" + "x" * 1000)
    assert record is not None
    assert record.ip == "1" * 64
    assert record.user_agent is not None
    assert len(record.user_agent) == 512
    assert "\x00" not in record.user_agent


def test_an_interval_of_zero_is_no_memo() -> None:
    with pytest.raises(ValueError, match="positive"):
        ActivityMemo(0)
