"""Concurrent-session limits (``max_sessions_per_user``) through the public API, on
every backend: which sessions a login ends, the typed refusal, the audit events and
metrics, per-tenant limits, and 1,000 logins of one user at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tessera import SessionLimitReachedError, Tessera, UnauthorisedError
from tessera.storage import SessionMatch
from tessera.syncio import Session

from ._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]


def _refresh_token(session: Session) -> str:
    token = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert isinstance(token, str)
    return token


def _live(t: Tessera, user: str = "u1", tenant: str | None = None) -> set[str]:
    return set(t.syncio.get_all_session_handles_for_user(user, tenant))


def test_a_login_beyond_the_limit_ends_the_least_recently_active(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    hooked: list[dict[str, Any]] = []
    t = make_tessera(
        max_sessions_per_user=2, access_token_blacklisting=True, audit_hook=hooked.append
    )
    laptop = t.syncio.create_new_session("u1")
    clock.advance(10)
    phone = t.syncio.create_new_session("u1")
    clock.advance(10)
    # The laptop is used again (a refresh is activity): the phone is now the least
    # recently active, though the laptop's session is older.
    laptop = t.syncio.refresh_session_without_request_response(_refresh_token(laptop))
    clock.advance(10)
    tablet = t.syncio.create_new_session("u1")
    assert _live(t) == {laptop.get_handle(), tablet.get_handle()}
    # The phone's session was revoked like any other: its refresh token is dead, and
    # with blacklisting its access token is refused at once.
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(_refresh_token(phone))
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(phone.get_access_token())
    revoked = [r for r in hooked if r["event"] == "session_revoked"]
    assert revoked == [
        {
            "event": "session_revoked",
            "time": revoked[0]["time"],
            "app_id": "public",
            "session_handle": phone.get_handle(),
            "reason": "limit",
            "user_id": "u1",
            "tenant_id": "public",
        }
    ]
    logged = [r.session_handle for r in t.store.read_revocations(0, (), 10)]
    assert logged == [phone.get_handle()]


def test_deny_refuses_the_login_with_a_typed_error(make_tessera: MakeTessera) -> None:
    hooked: list[dict[str, Any]] = []
    t = make_tessera(max_sessions_per_user=2, session_limit_policy="deny", audit_hook=hooked.append)
    first = t.syncio.create_new_session("u1")
    t.syncio.create_new_session("u1")
    with pytest.raises(SessionLimitReachedError) as refused:
        t.syncio.create_new_session("u1", ip="203.0.113.9", user_agent="UA/3")
    error = refused.value
    assert (error.user_id, error.tenant_id, error.max_sessions, error.live_sessions) == (
        "u1",
        "public",
        2,
        2,
    )
    assert len(_live(t)) == 2  # nothing was created
    assert hooked[-1] == {
        "event": "session_limit_reached",
        "time": hooked[-1]["time"],
        "app_id": "public",
        "user_id": "u1",
        "tenant_id": "public",
        "ip": "203.0.113.9",
        "user_agent": "UA/3",
        "max_sessions": 2,
        "live_sessions": 2,
    }
    # Counted per user and per tenant: others are not held back.
    t.syncio.create_new_session("u2")
    t.syncio.create_new_session("u1", tenant_id="acme")
    # Once the user logs out somewhere, the login goes through.
    first.revoke_session()
    assert t.syncio.create_new_session("u1").get_user_id() == "u1"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_async_api_applies_the_same_limit(make_tessera: MakeTessera) -> None:
    t = make_tessera(max_sessions_per_user=1, session_limit_policy="deny")
    await t.asyncio.create_new_session("u1")
    with pytest.raises(SessionLimitReachedError):
        await t.asyncio.create_new_session("u1")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_tenant_may_have_a_limit_of_its_own(make_tessera: MakeTessera) -> None:
    t = make_tessera(
        max_sessions_per_user=3,
        session_limit_policy="deny",
        tenant_settings={
            "kiosk": {"max_sessions_per_user": 1, "session_limit_policy": "evict_oldest"},
            "open": {"max_sessions_per_user": None},
        },
    )
    for _ in range(3):
        t.syncio.create_new_session("u1")
        kept = t.syncio.create_new_session("u1", tenant_id="kiosk")
        t.syncio.create_new_session("u1", tenant_id="open")
    with pytest.raises(SessionLimitReachedError):
        t.syncio.create_new_session("u1")
    assert _live(t, tenant="kiosk") == {kept.get_handle()}
    for _ in range(3):
        t.syncio.create_new_session("u1", tenant_id="open")
    assert len(_live(t, tenant="open")) == 6


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_metrics_count_evictions_and_refusals(make_tessera: MakeTessera) -> None:
    evictions = ("tessera_sessions_revoked_total", {"reason": "limit"})
    refusals = ("tessera_session_creates_total", {"outcome": "limit_reached"})
    before = [_value(n, **labels) for n, labels in (evictions, refusals)]
    evicting = make_tessera(max_sessions_per_user=1)
    for _ in range(3):
        evicting.syncio.create_new_session("u1")
    denying = make_tessera(max_sessions_per_user=1, session_limit_policy="deny")
    with pytest.raises(SessionLimitReachedError):
        denying.syncio.create_new_session("u1")
    after = [_value(n, **labels) for n, labels in (evictions, refusals)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_without_a_limit_a_login_costs_one_statement(make_tessera: MakeTessera) -> None:
    """The limit is paid for only where it is set: without one, creating a session runs
    the single INSERT it always ran; with one, the transaction that takes its turn."""

    def statements(**settings: Any) -> list[str]:
        t = make_tessera(database_pool_size=1, **settings)
        t.syncio.create_new_session("warm-up")  # loads the keys and the refresh-token key
        (pooled,) = t.store._pool._idle  # type: ignore[attr-defined]
        connection: sqlite3.Connection = pooled.raw
        seen: list[str] = []
        connection.set_trace_callback(seen.append)
        try:
            t.syncio.create_new_session("u1")
        finally:
            connection.set_trace_callback(None)
        return [s.split()[0].upper() for s in seen]

    assert statements() == ["INSERT"]
    assert statements(max_sessions_per_user=5) == ["BEGIN", "SELECT", "INSERT", "COMMIT"]


LOGINS, THREADS, LIMIT = 1000, 16, 3


@pytest.mark.parametrize("policy", ["evict_oldest", "deny"])
def test_a_thousand_concurrent_logins_leave_exactly_the_limit(
    make_tessera: MakeTessera, policy: str
) -> None:
    """1,000 logins of one user at once, from 16 threads over two ``Tessera`` objects
    (two connection pools, as two processes would have), leave exactly ``LIMIT`` live
    sessions: the others were evicted (each one logged) or refused."""
    hooked: list[dict[str, Any]] = []
    settings: dict[str, Any] = {
        "max_sessions_per_user": LIMIT,
        "session_limit_policy": policy,
        "access_token_signing_algorithm": "ES256",  # signing is not what is tested
        "database_pool_size": THREADS // 2,
        "audit_hook": hooked.append,
    }
    apps = [make_tessera(**settings), make_tessera(**settings)]

    def login(i: int) -> str | None:
        try:
            return apps[i % 2].syncio.create_new_session("crowd").get_handle()
        except SessionLimitReachedError:
            return None

    with ThreadPoolExecutor(THREADS) as pool:
        made = list(pool.map(login, range(LOGINS)))
    created = [h for h in made if h is not None]
    live = set(apps[0].syncio.get_all_session_handles_for_user("crowd"))
    assert len(live) == LIMIT
    assert apps[0].store.count_sessions(SessionMatch(user_id="crowd"), apps[0].now()) == LIMIT
    evicted = [r["session_handle"] for r in hooked if r["event"] == "session_revoked"]
    refused = [r for r in hooked if r["event"] == "session_limit_reached"]
    if policy == "deny":
        assert len(created) == LIMIT
        assert set(created) == live
        assert (len(evicted), len(refused)) == (0, LOGINS - LIMIT)
    else:
        assert len(created) == LOGINS
        assert len(evicted) == LOGINS - LIMIT == len(set(evicted))
        assert set(evicted) | live == set(created)
        assert not refused
        logged = {r.session_handle for r in apps[0].store.read_revocations(0, (), 2 * LOGINS)}
        assert logged == set(evicted)
