"""The deny set's bookkeeping, with times passed in: out-of-order commits, holes left by
rolled-back numbers, late arrivals, expiry."""

from __future__ import annotations

import logging

import pytest

from tessera.revocation._denyset import DenySet
from tessera.storage.base import PAYLOAD_CHANGED, RevocationRecord


def row(seq: int, handle: str | None = None, app_id: str = "public") -> RevocationRecord:
    return RevocationRecord(seq, app_id, handle or f"h{seq}", 0)


def make() -> DenySet:
    return DenySet(window=100.0, gap_timeout=5.0, late_window=60.0)


def test_a_number_committed_late_is_still_read() -> None:
    deny = make()
    deny.apply([row(s) for s in range(1, 9)], now=0.0)
    assert deny.low_water == 8
    # 10 commits before 9: the mark stays below 9, so the next read still asks for it.
    deny.apply([row(10)], now=1.0)
    assert "h10" in deny.entries("public")
    assert deny.plan().after_seq == 8
    # Re-reading 10 is harmless; 9 arrives and the mark moves past both.
    assert [r.seq for r in deny.apply([row(9), row(10)], now=2.0)] == [9]
    assert deny.low_water == 10
    assert "h9" in deny.entries("public")


def test_a_hole_is_skipped_after_the_gap_timeout_and_still_asked_for_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deny = make()
    deny.apply([row(1), row(3)], now=0.0)
    assert deny.low_water == 1
    deny.apply([], now=4.9)
    assert deny.low_water == 1
    deny.apply([], now=5.0)
    assert deny.low_water == 3
    assert deny.plan().also_seqs == (2,)
    # A very slow transaction commits after all: applied, and a warning says so.
    with caplog.at_level(logging.WARNING, "tessera.revocation"):
        deny.apply([row(2)], now=6.0)
    assert "h2" in deny.entries("public")
    assert "revocation_gap_timeout" in caplog.text
    assert deny.plan().also_seqs == ()


def test_skipped_numbers_are_forgotten_after_the_late_window() -> None:
    deny = make()
    deny.apply([row(1), row(3)], now=0.0)
    deny.apply([], now=5.0)
    assert deny.plan().also_seqs == (2,)
    deny.apply([], now=65.1)
    assert deny.plan().also_seqs == ()
    assert deny.apply([row(2)], now=66.0) == [], "below the mark and no longer awaited"


def test_first_rows_leave_room_for_transactions_in_flight() -> None:
    deny = make()
    deny.apply([row(1000)], now=0.0)
    # 999 may be a transaction that took its number before 1000 and commits later.
    assert deny.plan().after_seq < 999
    deny.apply([row(999)], now=1.0)
    assert "h999" in deny.entries("public")


def test_entries_expire_after_the_window_per_app() -> None:
    deny = make()
    shop = deny.entries("shop")
    deny.apply([row(1, "a"), row(2, "b", app_id="shop")], now=0.0)
    assert "b" in shop
    assert "b" not in deny.entries("public")
    assert deny.expire(99.0) == 0
    # Noted again later (this process revoked it too): the later expiry wins.
    deny.note("public", "a", 150.0)
    assert deny.expire(100.0) == 1
    assert "a" in deny.entries("public")
    assert "b" not in shop
    assert deny.expire(150.0) == 1
    assert len(deny) == 0


def test_rows_revoked_here_first_are_not_counted_as_fresh() -> None:
    deny = make()
    deny.note("public", "mine", 50.0)
    assert [r.session_handle for r in deny.apply([row(1, "mine"), row(2)], now=0.0)] == ["h2"]


def test_clear_keeps_the_mappings_readers_hold() -> None:
    deny = make()
    held = deny.entries("public")
    deny.apply([row(1), row(2)], now=0.0)
    deny.clear()
    assert held == {}
    assert deny.entries("public") is held
    assert deny.low_water == 0
    deny.apply([row(3)], now=1.0)
    assert "h3" in held


def test_payload_changes_are_kept_apart_from_revocations() -> None:
    deny = make()
    changed = RevocationRecord(1, "public", "h1", 0, PAYLOAD_CHANGED)
    assert deny.apply([changed, row(2)], now=0.0) == [row(2)]
    assert "h1" in deny.changed("public")
    assert "h1" not in deny.entries("public")
    assert deny.low_water == 2
    assert deny.expire(100.0) == 2
