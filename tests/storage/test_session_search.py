"""Finding, counting and revoking the sessions that match a filter
(``SessionMatch``): part of the storage contract, run on every backend."""

from __future__ import annotations

import pytest

from tessera.storage import SessionMatch, SqlStore

from .._support.records import NOW, record


@pytest.fixture
def shop(store: SqlStore) -> SqlStore:
    """Sessions of two users, two tenants, two places and two browsers."""
    store.create_session(record("a1", last_active_at=NOW + 5, user_agent="Mozilla/5.0 Firefox"))
    store.create_session(record("a2", last_active_at=NOW + 9, last_ip="198.51.100.1"))
    store.create_session(record("a3", last_active_at=NOW + 9, tenant_id="acme"))
    store.create_session(
        record("b1", user_id="user-2", ip="198.51.100.1", last_user_agent="curl/8 100%_done")
    )
    store.create_session(record("old", expires_at=NOW - 1, last_active_at=NOW + 50))
    store.for_app("other").create_session(record("x1", last_active_at=NOW + 99))
    return store


def _handles(store: SqlStore, match: SessionMatch, **page: object) -> list[str]:
    found = store.find_sessions(match, NOW, limit=page.pop("limit", 100), **page)  # type: ignore[arg-type]
    return [r.session_handle for r in found]


def test_most_recently_active_first_then_handle(shop: SqlStore) -> None:
    # Live sessions of this app only; ties on activity by handle, descending.
    assert _handles(shop, SessionMatch()) == ["a3", "a2", "a1", "b1"]
    assert shop.count_sessions(SessionMatch(), NOW) == 4


def test_pages_follow_on_without_gaps_or_repeats(shop: SqlStore) -> None:
    first = shop.find_sessions(SessionMatch(), NOW, limit=2)
    assert [r.session_handle for r in first] == ["a3", "a2"]
    after = (first[-1].last_active_at, first[-1].session_handle)
    assert _handles(shop, SessionMatch(), limit=2, after=after) == ["a1", "b1"]
    assert _handles(shop, SessionMatch(), limit=2, after=(NOW, "b1")) == []


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        (SessionMatch(user_id="user-1"), ["a3", "a2", "a1"]),
        (SessionMatch(user_id="user-1", tenant_id="public"), ["a2", "a1"]),
        (SessionMatch(tenant_id="acme"), ["a3"]),
        # The address at creation or at the last activity.
        (SessionMatch(ip="198.51.100.1"), ["a2", "b1"]),
        (SessionMatch(ip="198.51.100.1", user_id="user-2"), ["b1"]),
        # Part of either user agent, ignoring case.
        (SessionMatch(user_agent="FIREFOX"), ["a1"]),
        (SessionMatch(user_agent="mozilla"), ["a3", "a2", "a1", "b1"]),
        # LIKE's wildcards are plain characters.
        (SessionMatch(user_agent="100%_d"), ["b1"]),
        (SessionMatch(user_agent="100%_x"), []),
        (SessionMatch(user_agent="_"), ["b1"]),
        (SessionMatch(user_id="USER-1"), []),
    ],
)
def test_filters(shop: SqlStore, match: SessionMatch, expected: list[str]) -> None:
    assert _handles(shop, match) == expected
    assert shop.count_sessions(match, NOW) == len(expected)


def test_deleting_what_matches_logs_it_and_spares_the_rest(shop: SqlStore) -> None:
    ended = shop.delete_matching_sessions(SessionMatch(ip="198.51.100.1"), NOW)
    assert sorted(ended) == ["a2", "b1"]
    assert [r.session_handle for r in shop.read_revocations(0, (), 10)] == sorted(
        ended, key=ended.index
    )
    assert _handles(shop, SessionMatch()) == ["a3", "a1"]
    assert shop.for_app("other").load_session("x1") is not None


def test_a_bounded_delete_ends_what_matches_when_no_more_than_allowed(shop: SqlStore) -> None:
    ended = shop.delete_matching_sessions_if_at_most(SessionMatch(user_id="user-1"), NOW, 3)
    assert ended is not None
    assert sorted(ended) == ["a1", "a2", "a3"]
    assert sorted(r.session_handle for r in shop.read_revocations(0, (), 10)) == sorted(ended)
    # Fewer than allowed is fine too (some ended meanwhile): at most, not exactly.
    assert shop.delete_matching_sessions_if_at_most(SessionMatch(), NOW, 5) == ["b1"]


def test_a_bounded_delete_that_would_end_more_ends_nothing(shop: SqlStore) -> None:
    assert shop.delete_matching_sessions_if_at_most(SessionMatch(user_id="user-1"), NOW, 2) is None
    # Nothing deleted, nothing logged: the transaction was rolled back whole.
    assert _handles(shop, SessionMatch()) == ["a3", "a2", "a1", "b1"]
    assert shop.read_revocations(0, (), 10) == []
    assert shop.delete_matching_sessions_if_at_most(SessionMatch(), NOW, 0) is None
    assert shop.count_sessions(SessionMatch(), NOW) == 4
