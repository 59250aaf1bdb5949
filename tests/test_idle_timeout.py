"""The idle timeout (``session_idle_timeout``), on every backend: a session with no
refresh and no recorded activity for longer cannot be refreshed and is no live session
anywhere else either; activity recorded in between keeps it; the absolute lifetime
still ends it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from tessera import SessionLimitReachedError, Tessera, TryRefreshTokenError, UnauthorisedError
from tessera.storage import SessionMatch, SqlStore
from tessera.syncio import Session

from ._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]

#: Access tokens live 60 s; a session idle for more than 120 s is over.
IDLE = {"access_token_validity": 60, "session_idle_timeout": 120}


def _refresh_token(session: Session) -> str:
    token = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert isinstance(token, str)
    return token


def _record_activity(t: Tessera, session: Session, at: int) -> None:
    """Write the last activity as the activity recorder will (between refreshes)."""
    store = t.store
    assert isinstance(store, SqlStore)
    changed = store._execute(
        f"UPDATE {store.prefix}sessions SET last_active_at = ? "
        "WHERE app_id = ? AND session_handle = ?",
        (at, store.app_id, session.get_handle()),
    )
    assert changed == 1


def test_idle_just_under_the_limit_refreshes_and_just_over_does_not(
    make_tessera: MakeTessera, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    t = make_tessera(**IDLE)
    session = t.syncio.create_new_session("u1")
    clock.advance(120)  # idle for exactly the timeout: not longer
    session = t.syncio.refresh_session_without_request_response(_refresh_token(session))
    clock.now += 120_001  # a millisecond more than the timeout since that refresh
    caplog.set_level(logging.INFO, "tessera.security")
    with pytest.raises(UnauthorisedError) as refused:
        t.syncio.refresh_session_without_request_response(_refresh_token(session))
    assert refused.value.reason == "refresh: idle timeout"
    assert refused.value.clear_tokens  # an ordinary 401: the client logs in again
    assert f"session {session.get_handle()} of user u1 was idle for 120 s" in caplog.text
    # Over everywhere, not only for refreshing; the row stays until it expires.
    assert t.syncio.get_session_information(session.get_handle()) is None
    assert t.syncio.get_all_session_handles_for_user("u1") == []
    assert t.syncio.get_all_session_handles_for_user("u1", "public") == []
    assert t.syncio.merge_into_access_token_payload(session.get_handle(), {"a": 1}) is False
    assert t.store.load_session(session.get_handle()) is not None


def test_recorded_activity_keeps_a_session_alive(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(**IDLE)
    session = t.syncio.create_new_session("u1")
    clock.advance(100)
    _record_activity(t, session, clock.now)  # used through its access token
    clock.advance(110)  # 210 s after the last refresh, 110 s after the activity
    renewed = t.syncio.refresh_session_without_request_response(_refresh_token(session))
    assert t.syncio.get_session_information(renewed.get_handle()) is not None
    clock.advance(121)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(_refresh_token(renewed))


def test_no_access_token_outlives_the_idle_end(make_tessera: MakeTessera, clock: FakeClock) -> None:
    """The idle timeout is longer than the access-token lifetime, so the last access
    token of an idle session has expired before the session is over."""
    t = make_tessera(**IDLE)
    session = t.syncio.create_new_session("u1")
    assert session.get_access_token_expiry() <= session.get_time_created() + 120_000
    clock.advance(121)
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(session.get_access_token())


def test_a_database_checked_verify_refuses_an_idle_session(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    """A token signed before the idle timeout was set (by a process without it, with
    longer access tokens) outlives the idle end; a verify that reads the session's row
    refuses it then. (A revocation feed that is current answers from memory instead:
    it knows revocations, not idleness.)"""
    before = make_tessera(access_token_validity=3000)
    session = before.syncio.create_new_session("u1")
    t = make_tessera(**IDLE)
    t.revocations.close()  # no feed: every database-checked verify reads the row
    clock.advance(60)
    assert t.syncio.get_session_without_request_response(
        session.get_access_token(), check_database=True
    )
    clock.advance(61)
    assert t.syncio.get_session_without_request_response(session.get_access_token())
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(
            session.get_access_token(), check_database=True
        )


def test_the_absolute_lifetime_ends_an_active_session_and_idleness_an_idle_one(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(**IDLE, session_max_lifetime=300)
    active = t.syncio.create_new_session("u1")
    idle = t.syncio.create_new_session("u2")
    for _ in range(2):
        clock.advance(100)
        active = t.syncio.refresh_session_without_request_response(_refresh_token(active))
    # At 200 s: refreshed 100 s ago (alive); idle since creation (over).
    with pytest.raises(UnauthorisedError, match="revoked or expired"):
        t.syncio.refresh_session_without_request_response(_refresh_token(idle))
    clock.advance(99)
    active = t.syncio.refresh_session_without_request_response(_refresh_token(active))
    clock.advance(1)  # 300 s after login: activity cannot extend the absolute lifetime
    _record_activity(t, active, clock.now)
    with pytest.raises(UnauthorisedError) as ended:
        t.syncio.refresh_session_without_request_response(_refresh_token(active))
    assert ended.value.reason == "refresh: no live session"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_idle_sessions_do_not_count_toward_a_limit(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(**IDLE, max_sessions_per_user=1, session_limit_policy="deny")
    t.syncio.create_new_session("u1")
    with pytest.raises(SessionLimitReachedError):
        t.syncio.create_new_session("u1")
    clock.advance(121)
    t.syncio.create_new_session("u1")
    assert t.store.count_sessions(SessionMatch(user_id="u1"), clock.now) == 2  # rows
    assert len(t.syncio.get_all_session_handles_for_user("u1")) == 1  # live


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_tenant_may_have_an_idle_timeout_of_its_own(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(
        **IDLE,
        tenant_settings={
            "ops": {"session_idle_timeout": 3600},
            "open": {"session_idle_timeout": None},
        },
    )
    sessions = {
        tenant: t.syncio.create_new_session("u1", tenant_id=tenant)
        for tenant in ("public", "ops", "open")
    }
    clock.advance(121)
    live = {h: tenant for tenant, s in sessions.items() for h in [s.get_handle()]}
    across = t.syncio.get_all_session_handles_for_user("u1")
    assert sorted(live[h] for h in across) == ["open", "ops"]
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(_refresh_token(sessions["public"]))
    clock.advance(3600)
    t.syncio.refresh_session_without_request_response(_refresh_token(sessions["open"]))
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(_refresh_token(sessions["ops"]))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_idle_refusal_is_counted_as_such(make_tessera: MakeTessera, clock: FakeClock) -> None:
    labels = {"outcome": "unauthorised", "reason": "idle_timeout"}
    before = REGISTRY.get_sample_value("tessera_session_refreshes_total", labels) or 0.0
    t = make_tessera(**IDLE)
    session = t.syncio.create_new_session("u1")
    clock.advance(121)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(_refresh_token(session))
    after = REGISTRY.get_sample_value("tessera_session_refreshes_total", labels)
    assert after == before + 1
