"""Creating a session within a per-user limit (``create_session_within_limit``): part of
the storage contract, run on every backend. The race of many logins at once is in
``tests/test_session_limits.py``."""

from __future__ import annotations

import pytest

from tessera.storage import LimitedCreation, SessionLimit, SessionMatch, SqlStore

from .._support.records import NOW, record

EVICT = SessionLimit(max_sessions=3, evict_oldest=True)
DENY = SessionLimit(max_sessions=3, evict_oldest=False)


def _live(store: SqlStore, user: str = "user-1", tenant: str = "public") -> list[str]:
    return store.list_session_handles_for_user(user, tenant, NOW)


@pytest.fixture
def busy(store: SqlStore) -> SqlStore:
    """user-1 holds three live sessions in the public tenant (b, then a and c later
    and tied: the older creation, a, is the less recent), plus rows that must not
    count: expired, another tenant, another user, another app."""
    store.create_session(record("b", last_active_at=NOW - 300))
    store.create_session(record("c", last_active_at=NOW - 100, created_at=NOW - 50))
    store.create_session(record("a", last_active_at=NOW - 100, created_at=NOW - 60))
    store.create_session(record("expired", expires_at=NOW - 1, last_active_at=NOW - 900))
    store.create_session(record("acme", tenant_id="acme", last_active_at=NOW - 900))
    store.create_session(record("other-user", user_id="user-2", last_active_at=NOW - 900))
    store.for_app("other").create_session(record("other-app", last_active_at=NOW - 900))
    return store


def test_evicts_the_least_recently_active_then_the_oldest(busy: SqlStore) -> None:
    outcome = busy.create_session_within_limit(record("new"), EVICT)
    assert outcome == LimitedCreation(created=True, live_sessions=3, evicted=["b"])
    assert sorted(_live(busy)) == ["a", "c", "new"]
    # Ties on last activity go by creation: a before c.
    assert busy.create_session_within_limit(record("newer"), EVICT).evicted == ["a"]
    # An eviction is a revocation: it is in the log, like any other.
    logged = [r.session_handle for r in busy.read_revocations(0, (), 100)]
    assert logged == ["b", "a"]
    # Nothing else moved.
    assert _live(busy, tenant="acme") == ["acme"]
    assert _live(busy, user="user-2") == ["other-user"]
    assert busy.for_app("other").list_session_handles_for_user("user-1", None, NOW) == ["other-app"]


def test_ties_on_activity_and_creation_go_by_handle(store: SqlStore) -> None:
    for handle in ("h2", "h3", "h1"):
        store.create_session(record(handle))
    outcome = store.create_session_within_limit(record("h4", last_active_at=NOW + 1), EVICT)
    assert outcome.evicted == ["h1"]


def test_a_lowered_limit_evicts_all_it_must(busy: SqlStore) -> None:
    outcome = busy.create_session_within_limit(
        record("new"), SessionLimit(max_sessions=1, evict_oldest=True)
    )
    assert outcome.evicted == ["b", "a", "c"]
    assert _live(busy) == ["new"]


def test_deny_refuses_at_the_limit_and_writes_nothing(busy: SqlStore) -> None:
    outcome = busy.create_session_within_limit(record("new"), DENY)
    assert outcome == LimitedCreation(created=False, live_sessions=3, evicted=[])
    assert busy.load_session("new") is None
    assert busy.read_revocations(0, (), 100) == []
    # Below the limit, it creates.
    assert busy.delete_sessions(["a"]) == ["a"]
    assert busy.create_session_within_limit(record("new"), DENY).created
    assert sorted(_live(busy)) == ["b", "c", "new"]


def test_idle_sessions_neither_count_nor_get_evicted(busy: SqlStore) -> None:
    # With an idle timeout that ended b (last active NOW - 300), two sessions remain.
    limit = SessionLimit(max_sessions=3, evict_oldest=False, active_since=NOW - 200)
    assert busy.create_session_within_limit(record("new"), limit).live_sessions == 2
    evict = SessionLimit(max_sessions=2, evict_oldest=True, active_since=NOW - 200)
    assert busy.create_session_within_limit(record("newer"), evict).evicted == ["a", "c"]
    assert busy.load_session("b") is not None  # over already; the purge takes it
    # The same filter selects the live sessions everywhere else.
    active = SessionMatch(user_id="user-1", tenant_id="public", active_since=NOW - 200)
    assert busy.count_sessions(active, NOW) == 2
    assert busy.list_session_handles_for_user("user-1", "public", NOW, active_since=NOW - 200) == [
        "new",
        "newer",
    ]


def test_a_refused_or_failed_creation_leaves_no_row(store: SqlStore) -> None:
    with pytest.raises(TypeError):
        store.create_session_within_limit(record("h1", session_data={"x": {1, 2}}), EVICT)
    assert store.load_session("h1") is None
    with pytest.raises(ValueError, match="at least one"):
        store.create_session_within_limit(
            record("h1"), SessionLimit(max_sessions=0, evict_oldest=True)
        )
