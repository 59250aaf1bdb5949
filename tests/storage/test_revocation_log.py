"""The revocation log, on every backend: every revocation is logged with the delete,
numbers only grow, old rows are purged, expiry is not a revocation."""

from __future__ import annotations

import time

from tessera.storage import SessionMatch, SqlStore
from tessera.storage.base import PAYLOAD_CHANGED, REVOKED

from .._support.records import NOW, record


def _handles(store: SqlStore, after: int = 0) -> list[tuple[str, str]]:
    return [(r.app_id, r.session_handle) for r in store.read_revocations(after, (), 10_000)]


def test_deletes_by_handle_are_logged_with_growing_numbers(store: SqlStore) -> None:
    for handle in ("a", "b", "c"):
        store.create_session(record(handle))
    store.delete_sessions(["a", "missing"])
    store.delete_sessions(["c", "b"])
    rows = store.read_revocations(0, (), 100)
    assert rows[0].session_handle == "a"
    assert sorted(r.session_handle for r in rows) == ["a", "b", "c"]
    assert [r.seq for r in rows] == sorted({r.seq for r in rows})
    # Stamped by the database's clock, in milliseconds since the epoch.
    assert all(abs(r.revoked_at - time.time() * 1000) < 60_000 for r in rows)
    assert store.delete_sessions(["a"]) == []
    assert len(store.read_revocations(0, (), 100)) == 3, "a no-op delete logs nothing"


def test_user_revocations_are_logged_per_app(store: SqlStore) -> None:
    shop = store.for_app("shop")
    store.create_session(record("p1"))
    store.create_session(record("t1", tenant_id="acme"))
    shop.create_session(record("s1"))
    assert store.delete_matching_sessions(
        SessionMatch(user_id="user-1", tenant_id="acme"), NOW
    ) == ["t1"]
    assert shop.delete_matching_sessions(SessionMatch(user_id="user-1"), NOW) == ["s1"]
    assert store.delete_matching_sessions(SessionMatch(user_id="user-1"), NOW) == ["p1"]
    assert _handles(store) == [("public", "t1"), ("shop", "s1"), ("public", "p1")]


def test_many_handles_are_all_logged(store: SqlStore) -> None:
    handles = [f"h{i}" for i in range(1203)]
    for handle in handles:
        store.create_session(record(handle))
    store.delete_sessions(handles)
    assert sorted(h for _, h in _handles(store)) == sorted(handles)


def test_removing_a_tenant_or_an_app_logs_the_sessions_it_ends(store: SqlStore) -> None:
    gone, kept = store.for_app("gone"), store.for_app("kept")
    for app in (gone, kept):
        store.put_tenant(app.app_id, "public", {}, NOW)
        store.put_tenant(app.app_id, "blue", {}, NOW)
        app.create_session(record("p1"))
        app.create_session(record("b1", tenant_id="blue"))
        app.create_session(record("b2", tenant_id="blue"))
    removal = store.delete_tenant("gone", "blue")
    assert removal.existed
    assert sorted(removal.revoked) == ["b1", "b2"]
    assert sorted(_handles(store)) == [("gone", "b1"), ("gone", "b2")]
    after = store.read_revocations(0, (), 100)[-1].seq
    assert store.delete_tenant("gone", None).revoked == ["p1"]
    assert _handles(store, after) == [("gone", "p1")]
    assert not store.delete_tenant("gone", None).existed
    assert _handles(store, after) == [("gone", "p1")], "nothing left to end, nothing logged"
    assert kept.load_session("b1") is not None


def test_removing_an_app_with_many_sessions_logs_them_all(store: SqlStore) -> None:
    big = store.for_app("big")
    store.put_tenant("big", "public", {}, NOW)
    handles = [f"h{i}" for i in range(1203)]
    for handle in handles:
        big.create_session(record(handle))
    assert sorted(store.delete_tenant("big", None).revoked) == sorted(handles)
    assert sorted(h for _, h in _handles(store)) == sorted(handles)
    assert big.load_session("h0") is None


def test_expiry_is_not_revocation(store: SqlStore) -> None:
    store.create_session(record("old", expires_at=NOW - 1))
    assert store.purge_expired_sessions(NOW, 100) == 1
    assert _handles(store) == []


def test_read_after_a_number_and_by_name(store: SqlStore) -> None:
    for handle in ("a", "b", "c", "d"):
        store.create_session(record(handle))
        store.delete_sessions([handle])
    seqs = [r.seq for r in store.read_revocations(0, (), 100)]
    assert [r.seq for r in store.read_revocations(seqs[2], (), 100)] == [seqs[3]]
    again = store.read_revocations(seqs[3], (seqs[0], seqs[2]), 100)
    assert [r.session_handle for r in again] == ["a", "c"]
    assert [r.session_handle for r in store.read_revocations(0, (), 2)] == ["a", "b"]


def test_purge_keeps_recent_rows_and_numbers_are_never_reused(store: SqlStore) -> None:
    store.create_session(record("a"))
    store.delete_sessions(["a"])
    assert store.purge_revocations(keep_ms=60_000) == 0
    first = store.read_revocations(0, (), 10)
    assert len(first) == 1
    # A negative age keeps nothing: every row is "older" than a minute from now.
    assert store.purge_revocations(keep_ms=-60_000) == 1
    assert store.read_revocations(0, (), 10) == []
    store.create_session(record("b"))
    store.delete_sessions(["b"])
    (second,) = store.read_revocations(0, (), 10)
    assert second.seq > first[0].seq, "a reader past the purged row would miss this one"


def test_reopening_keeps_the_log(store_factory: object, store: SqlStore) -> None:
    store.create_session(record("a"))
    store.delete_sessions(["a"])
    again = store_factory()  # type: ignore[operator]
    assert [r.session_handle for r in again.read_revocations(0, (), 10)] == ["a"]


def test_payload_changes_are_logged_as_such(store: SqlStore) -> None:
    store.create_session(record("a"))
    assert store.update_access_token_payload("a", lambda _: {"r": 1}, NOW)
    assert store.update_access_token_payload("a", lambda p: {**p, "s": 2}, NOW)
    assert not store.update_access_token_payload("gone", lambda _: {"r": 1}, NOW)
    assert store.replace_session_data("a", {"x": 1}, NOW), "session data is not logged"
    store.delete_sessions(["a"])
    rows = store.read_revocations(0, (), 10)
    assert [(r.session_handle, r.kind) for r in rows] == [
        ("a", PAYLOAD_CHANGED),
        ("a", PAYLOAD_CHANGED),
        ("a", REVOKED),
    ]
