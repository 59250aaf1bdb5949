"""Recording a session's last activity (``record_activity``): part of the storage
contract, run on every backend."""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable

from tessera import StorageError
from tessera.storage import SessionActivity, SessionMatch, SqlStore

from .._support.records import NOW, record

MINUTE = 60_000


def _last(store: SqlStore, handle: str = "h1") -> tuple[int, str | None, str | None]:
    row = store.load_session(handle)
    assert row is not None
    return row.last_active_at, row.last_ip, row.last_user_agent


def test_activity_is_recorded_once_per_interval(store: SqlStore) -> None:
    store.create_session(record(last_ip="203.0.113.9", last_user_agent="Mozilla/5.0"))
    # Less than an interval after the last record: nothing changes.
    seen = SessionActivity("h1", NOW + MINUTE - 1, "198.51.100.7", "curl/8")
    assert store.record_activity([seen], MINUTE) == 0
    assert _last(store) == (NOW, "203.0.113.9", "Mozilla/5.0")
    # A whole interval later: recorded, with where from.
    seen = SessionActivity("h1", NOW + MINUTE, "198.51.100.7", "curl/8")
    assert store.record_activity([seen], MINUTE) == 1
    assert _last(store) == (NOW + MINUTE, "198.51.100.7", "curl/8")
    # The creation's address and agent never change.
    row = store.load_session("h1")
    assert row is not None
    assert (row.ip, row.user_agent) == ("203.0.113.9", "Mozilla/5.0")


def test_unknown_address_and_agent_keep_the_recorded_ones(store: SqlStore) -> None:
    store.create_session(record(last_ip="203.0.113.9", last_user_agent="Mozilla/5.0"))
    assert store.record_activity([SessionActivity("h1", NOW + MINUTE)], MINUTE) == 1
    assert _last(store) == (NOW + MINUTE, "203.0.113.9", "Mozilla/5.0")


def test_a_late_record_never_moves_activity_back(store: SqlStore) -> None:
    store.create_session(record(last_active_at=NOW + 10 * MINUTE))
    assert store.record_activity([SessionActivity("h1", NOW + 5 * MINUTE, "x", "y")], 1) == 0
    assert _last(store)[0] == NOW + 10 * MINUTE


def test_a_batch_touches_only_live_sessions_of_this_app(store: SqlStore) -> None:
    live = NOW + 10 * MINUTE
    store.create_session(record("a", expires_at=live))
    store.create_session(record("b", expires_at=live, last_active_at=NOW + MINUTE))  # too recent
    store.create_session(record("gone", expires_at=NOW + MINUTE))  # expired by then
    store.for_app("other").create_session(record("a", expires_at=live))
    later = NOW + 2 * MINUTE - 1
    batch = [SessionActivity(h, later, "198.51.100.7") for h in ("a", "b", "gone", "missing")]
    assert store.record_activity(batch, MINUTE) == 1
    assert _last(store, "a")[:2] == (later, "198.51.100.7")
    assert _last(store, "b")[0] == NOW + MINUTE
    assert _last(store, "gone")[0] == NOW
    other = store.for_app("other").load_session("a")
    assert other is not None
    assert other.last_active_at == NOW
    assert store.record_activity([], MINUTE) == 0


def test_processes_recording_one_session_at_once_write_it_once(
    store_factory: Callable[..., SqlStore],
) -> None:
    # Eight "processes" (stores with their own connections) each see the session in use
    # at nearly the same time; the database lets one record through per interval.
    stores = [store_factory(pool_size=1) for _ in range(8)]
    stores[0].create_session(record())
    changed: list[int] = []
    start = threading.Barrier(len(stores))

    def record_from(index: int, store: SqlStore) -> None:
        start.wait()
        changed.append(store.record_activity([SessionActivity("h1", NOW + MINUTE + index)], MINUTE))

    threads = [threading.Thread(target=record_from, args=pair) for pair in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(changed) == [0] * 7 + [1]


def test_recording_activity_writes_no_revocation(store: SqlStore) -> None:
    store.create_session(record())
    store.record_activity([SessionActivity("h1", NOW + MINUTE)], MINUTE)
    assert store.read_revocations(0, (), 10) == []


def _record_together(
    stores: list[SqlStore], handles: list[str], at: int, seed: int
) -> tuple[list[int], list[BaseException]]:
    """Every store records activity at ``at`` for all ``handles``, each in its own
    shuffled order, all starting at once."""
    changed: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def record_from(index: int, store: SqlStore) -> None:
        order = random.Random(seed * 100 + index).sample(handles, len(handles))
        start.wait()
        try:
            changed.append(store.record_activity([SessionActivity(h, at) for h in order], 1))
        except StorageError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=record_from, args=pair) for pair in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return changed, errors


def test_overlapping_batches_from_many_processes_never_deadlock(
    store_factory: Callable[..., SqlStore],
) -> None:
    # Each "process" records the same sessions in its own order, all at once: the store
    # takes the row locks in one order, so no batch is lost to a deadlock.
    stores = [store_factory(pool_size=1) for _ in range(4)]
    handles = [f"s{i:03d}" for i in range(60)]
    for handle in handles:
        stores[0].create_session(record(handle, expires_at=NOW + 100 * MINUTE))
    for round_number in range(1, 6):
        changed, errors = _record_together(
            stores, handles, NOW + round_number * MINUTE, round_number
        )
        assert errors == []
        assert sum(changed) == len(handles)  # each session once, by whichever came first


def _revoke_while_recording(
    revoker: SqlStore, recorders: list[SqlStore], handles: list[str], at: int
) -> tuple[list[str], list[BaseException]]:
    """Revoke user-1's sessions while every recorder records activity on ``handles``."""
    start = threading.Barrier(len(recorders) + 1)
    failures: list[BaseException] = []
    ended: list[str] = []

    def revoke() -> None:
        start.wait()
        try:
            ended.extend(revoker.delete_matching_sessions(SessionMatch(user_id="user-1"), at))
        except StorageError as exc:
            failures.append(exc)

    def recording(index: int, store: SqlStore) -> None:
        order = random.Random(index).sample(handles, len(handles))
        start.wait()
        with contextlib.suppress(StorageError):  # activity may lose; never the revocation
            store.record_activity([SessionActivity(h, at) for h in order], 1)

    threads = [threading.Thread(target=revoke)] + [
        threading.Thread(target=recording, args=pair) for pair in enumerate(recorders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ended, failures


def test_activity_never_makes_a_revocation_fail(store_factory: Callable[..., SqlStore]) -> None:
    # A user's sessions are revoked while three processes record activity on them: the
    # revocation (which locks the user's rows in its own order) always goes through.
    revoker = store_factory(pool_size=1)
    recorders = [store_factory(pool_size=1) for _ in range(3)]
    for round_number in range(1, 6):
        handles = [f"r{round_number}-{i:03d}" for i in range(60)]
        for handle in handles:
            revoker.create_session(record(handle, expires_at=NOW + 100 * MINUTE))
        at = NOW + round_number * MINUTE
        ended, failures = _revoke_while_recording(revoker, recorders, handles, at)
        assert failures == []
        assert sorted(ended) == handles
