"""The sessions table (``storage/_sessions.py``): part of the storage contract,
run on every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tessera import StorageError
from tessera.storage import SessionMatch, SqlStore

from .._support.records import NOW, record


def test_created_session_reads_back_exactly(store: SqlStore) -> None:
    original = record()
    store.create_session(original)
    assert store.load_session("h1") == original
    assert store.load_session("missing") is None


def test_duplicate_handle_is_a_storage_error(store: SqlStore) -> None:
    store.create_session(record())
    with pytest.raises(StorageError):
        store.create_session(record())


def test_rotation_is_compare_and_swap(store: SqlStore) -> None:
    store.create_session(record())
    rotate: dict[str, Any] = {
        "rotated_at": NOW + 5,
        "expires_at": NOW + 90_000,
        "ip": None,
        "user_agent": "new agent",
        "use_static_key": True,
    }
    assert store.rotate_refresh_token("h1", expected_hash="hash-0", new_hash="hash-1", **rotate)
    # The same swap again finds the row changed: no second winner.
    assert not store.rotate_refresh_token("h1", expected_hash="hash-0", new_hash="hash-X", **rotate)
    after = store.load_session("h1")
    assert after is not None
    assert after.refresh_token_hash == "hash-1"
    assert after.previous_refresh_token_hash == "hash-0"
    assert after.refresh_token_rotated_at == NOW + 5
    assert after.last_refreshed_at == NOW + 5
    assert after.expires_at == NOW + 90_000
    # The creation's address and agent stay; the last activity's follow the rotation
    # (None keeps what was stored).
    assert (after.ip, after.user_agent) == ("203.0.113.9", "Mozilla/5.0")
    assert (after.last_ip, after.last_user_agent) == (None, "new agent")
    assert after.last_active_at == NOW + 5
    assert after.use_static_key is True
    assert not store.rotate_refresh_token(
        "gone", expected_hash="hash-1", new_hash="hash-2", **rotate
    )


def test_concurrent_swaps_have_exactly_one_winner(store_factory: Callable[..., SqlStore]) -> None:
    store = store_factory(pool_size=8)
    store.create_session(record())
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def contend(i: int) -> None:
        barrier.wait()
        results.append(
            store.rotate_refresh_token(
                "h1",
                expected_hash="hash-0",
                new_hash=f"hash-new-{i}",
                rotated_at=NOW,
                expires_at=NOW + 1,
                ip=None,
                user_agent=None,
                use_static_key=False,
            )
        )

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    after = store.load_session("h1")
    assert after is not None
    assert after.refresh_token_hash.startswith("hash-new-")


def test_pending_rotation_is_acknowledged_once(store: SqlStore) -> None:
    store.create_session(record())
    rotate: dict[str, Any] = {
        "rotated_at": NOW + 5,
        "expires_at": NOW + 90_000,
        "ip": None,
        "user_agent": None,
        "use_static_key": False,
    }
    assert store.rotate_refresh_token(
        "h1", expected_hash="hash-0", new_hash="hash-1", pending=True, **rotate
    )
    pending = store.load_session("h1")
    assert pending is not None
    assert pending.rotation_pending
    acknowledge = store.acknowledge_rotation
    assert not acknowledge("h1", new_hash="hash-1", previous_hash="hash-X", now=NOW + 9)
    assert not acknowledge("h1", new_hash="hash-X", previous_hash="hash-0", now=NOW + 9)
    assert acknowledge("h1", new_hash="hash-1", previous_hash="hash-0", now=NOW + 9)
    done = store.load_session("h1")
    assert done is not None
    assert not done.rotation_pending
    assert done.refresh_token_rotated_at == NOW + 9  # the grace period starts again
    assert not acknowledge("h1", new_hash="hash-1", previous_hash="hash-0", now=NOW + 20)
    assert store.rotate_refresh_token(
        "h1", expected_hash="hash-1", new_hash="hash-2", pending=True, **rotate
    )
    # A swap without ``pending`` (the core's confirmation) clears it.
    assert store.rotate_refresh_token("h1", expected_hash="hash-2", new_hash="hash-2", **rotate)
    confirmed = store.load_session("h1")
    assert confirmed is not None
    assert not confirmed.rotation_pending


def test_update_json_columns_replace_and_report_missing(store: SqlStore) -> None:
    store.create_session(record())
    assert store.replace_session_data("h1", {"new": True}, NOW)
    assert store.replace_session_data("h1", {"new": True}, NOW)  # same value: still found
    assert store.update_access_token_payload("h1", lambda _: {"plan": "pro"}, NOW)
    after = store.load_session("h1")
    assert after is not None
    assert after.session_data == {"new": True}
    assert after.access_token_payload == {"plan": "pro"}
    assert not store.replace_session_data("missing", {}, NOW)
    # An expired session is not updated.
    assert not store.replace_session_data("h1", {"late": 1}, NOW + 60_001)


def test_values_json_cannot_hold_raise_type_error_not_storage_error(store: SqlStore) -> None:
    with pytest.raises(TypeError):
        store.create_session(record(session_data={"when": object()}))
    assert store.load_session("h1") is None


def test_lifetime_reads_back(store: SqlStore) -> None:
    store.create_session(record(created_at=NOW - 5, expires_at=NOW + 7))
    loaded = store.load_session("h1")
    assert loaded is not None
    assert (loaded.created_at, loaded.expires_at) == (NOW - 5, NOW + 7)
    assert store.load_session("missing") is None


def test_payload_change_is_not_called_when_the_session_is_gone(store: SqlStore) -> None:
    store.create_session(record(expires_at=NOW))
    seen: list[dict[str, Any]] = []

    def change(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return payload

    assert not store.update_access_token_payload("missing", change, NOW)
    assert not store.update_access_token_payload("h1", change, NOW + 1)
    assert seen == []
    assert store.update_access_token_payload("h1", change, NOW)
    assert len(seen) == 1


def test_payload_updates_are_serialised(store_factory: Callable[..., SqlStore]) -> None:
    store = store_factory(pool_size=8)
    store.create_session(record(access_token_payload={"n": 0}))
    barrier = threading.Barrier(8)

    def add_one() -> None:
        barrier.wait()
        assert store.update_access_token_payload("h1", lambda p: {"n": p["n"] + 1}, NOW)

    threads = [threading.Thread(target=add_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = store.load_session("h1")
    assert after is not None
    assert after.access_token_payload == {"n": 8}
    assert not store.update_access_token_payload("missing", lambda p: p, NOW)
    assert not store.update_access_token_payload("h1", lambda p: p, NOW + 60_001)


def test_delete_by_handles_returns_only_existing(store: SqlStore) -> None:
    for handle in ("a", "b", "c"):
        store.create_session(record(handle))
    assert sorted(store.delete_sessions(["a", "c", "zzz", "a"])) == ["a", "c"]
    assert store.load_session("a") is None
    assert store.load_session("b") is not None
    assert store.delete_sessions([]) == []


def test_delete_many_handles_in_batches(store: SqlStore) -> None:
    handles = [f"h{i}" for i in range(1203)]
    for handle in handles:
        store.create_session(record(handle))
    assert sorted(store.delete_sessions(handles)) == sorted(handles)


def test_user_scoped_listing_and_deletion_by_tenant(store: SqlStore) -> None:
    store.create_session(record("p1"))
    store.create_session(record("p2", created_at=NOW + 1))
    store.create_session(record("t1", tenant_id="acme"))
    store.create_session(record("other", user_id="user-2"))
    store.create_session(record("case", user_id="USER-1"))
    store.create_session(record("old", expires_at=NOW - 1))
    # Oldest first; expired and other users' sessions are not listed.
    assert store.list_session_handles_for_user("user-1", None, NOW) == ["p1", "t1", "p2"]
    assert sorted(store.list_session_handles_for_user("user-1", "public", NOW)) == ["p1", "p2"]
    assert store.list_session_handles_for_user("user-1", "acme", NOW) == ["t1"]
    assert sorted(
        store.delete_matching_sessions(SessionMatch(user_id="user-1", tenant_id="acme"), NOW)
    ) == ["t1"]
    assert sorted(store.delete_matching_sessions(SessionMatch(user_id="user-1"), NOW)) == [
        "p1",
        "p2",
    ]
    # User ids are case-sensitive, and other users are untouched.
    assert store.load_session("case") is not None
    assert store.load_session("other") is not None


def test_purge_deletes_expired_in_bounded_batches(store: SqlStore) -> None:
    for i in range(5):
        store.create_session(record(f"old{i}", expires_at=NOW - 1))
    store.create_session(record("live"))
    assert store.purge_expired_sessions(NOW, 3) == 3
    assert store.purge_expired_sessions(NOW, 3) == 2
    assert store.purge_expired_sessions(NOW, 3) == 0
    assert store.load_session("live") is not None
