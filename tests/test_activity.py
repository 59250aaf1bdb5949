"""Last activity recorded by verifications: at most once per interval per session,
written by a background thread, on every backend."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from tessera import Tessera
from tessera.storage import SqlStore

from ._support.clock import FakeClock

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _last(t: Tessera, handle: str) -> tuple[int, str | None, str | None]:
    info = t.syncio.get_session_information(handle)
    assert info is not None
    return info.last_active, info.last_ip, info.last_user_agent


def test_verifications_record_activity_once_per_interval(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=60)
    created_at = clock.now
    session = t.syncio.create_new_session("u1", ip="203.0.113.9", user_agent="first")
    token, handle = session.get_access_token(), session.get_handle()
    recorded = [created_at]
    # One verification a second for ten minutes, each written (if at all) before the
    # clock moves on.
    for _ in range(600):
        clock.advance(1)
        t.syncio.get_session_without_request_response(token, ip="198.51.100.7", user_agent=UA)
        assert t.flush_activity()
        last = _last(t, handle)[0]
        if last != recorded[-1]:
            recorded.append(last)
    gaps = [b - a for a, b in itertools.pairwise(recorded)]
    # Never more often than the interval, and never staler than two of them.
    assert gaps
    assert all(60_000 <= gap <= 120_000 for gap in gaps), gaps
    assert len(gaps) >= 9
    stats = t.activity.writer.stats() if t.activity else None
    assert stats is not None
    assert stats.changed == len(gaps)
    assert stats.submitted == stats.changed  # one process: nothing sent in vain
    assert _last(t, handle)[1:] == ("198.51.100.7", UA)
    # The creation's address and agent stay.
    info = t.syncio.get_session_information(handle)
    assert info is not None
    assert (info.ip, info.user_agent) == ("203.0.113.9", "first")


async def test_async_verifications_record_activity_too(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=30)
    session = await t.asyncio.create_new_session("u1")
    clock.advance(45)
    await t.asyncio.get_session_without_request_response(
        session.get_access_token(), ip="2001:db8::1", user_agent=UA
    )
    assert t.flush_activity()
    assert _last(t, session.get_handle()) == (clock.now, "2001:db8::1", UA)


def test_a_refresh_counts_as_activity(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=60, access_token_validity=10)
    session = t.syncio.create_new_session("u1")
    clock.advance(50)
    fresh = t.syncio.refresh_session_without_request_response(
        session.get_all_session_tokens_dangerously()["refreshToken"] or "", user_agent=UA
    )
    refreshed_at = clock.now
    clock.advance(5)
    t.syncio.get_session_without_request_response(fresh.get_access_token(), ip="198.51.100.7")
    assert t.flush_activity()
    assert _last(t, session.get_handle()) == (refreshed_at, None, UA)
    stats = t.activity.writer.stats() if t.activity else None
    assert stats is not None
    assert stats.submitted == 0


def test_processes_together_write_about_once_per_interval(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    # Four processes of one app, each verifying the same session every second for five
    # minutes: each process queues a record a minute, but the database takes one.
    apps = [make_tessera(activity_write_interval=60) for _ in range(4)]
    session = apps[0].syncio.create_new_session("u1")
    for _ in range(300):
        clock.advance(1)
        for index, app in enumerate(apps):
            app.syncio.get_session_without_request_response(
                session.get_access_token(), ip=f"198.51.100.{index}"
            )
        for app in apps:
            assert app.flush_activity()
    changed = sum(a.activity.writer.stats().changed for a in apps if a.activity)
    submitted = sum(a.activity.writer.stats().submitted for a in apps if a.activity)
    # Five minutes: a write each minute or so (never closer than a minute, at most two
    # apart), however many processes see the session.
    assert 3 <= changed <= 5
    assert submitted > changed


def test_an_interval_of_zero_records_nothing_between_refreshes(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=0)
    assert t.activity is None
    session = t.syncio.create_new_session("u1")
    created_at = clock.now
    clock.advance(3600)
    t.syncio.get_session_without_request_response(session.get_access_token(), ip="x")
    assert t.flush_activity()
    assert _last(t, session.get_handle())[0] == created_at


def test_a_failing_database_loses_activity_not_requests(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=60)
    session = t.syncio.create_new_session("u1")
    t.syncio.get_session_without_request_response(session.get_access_token())  # keys loaded
    store = t.store
    assert isinstance(store, SqlStore)
    store.drop_tables()  # every later write fails
    clock.advance(120)
    # The verification answers from memory and queues the write, which fails later.
    assert t.syncio.get_session_without_request_response(session.get_access_token())
    assert t.flush_activity()
    stats = t.activity.writer.stats() if t.activity else None
    assert stats is not None
    assert (stats.changed, stats.dropped) == (0, 1)


@pytest.mark.parametrize("interval", ["-1", "1e9", "nan"])
def test_the_interval_is_checked(interval: str) -> None:
    with pytest.raises(ValueError, match="activity_write_interval"):
        Tessera(store=None, database="sqlite:///:memory:", activity_write_interval=interval)


def test_the_engine_flags_a_token_at_most_once_per_interval(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    # The hot path's side of it: one comparison per verification, kept with the token.
    t = make_tessera(activity_write_interval=60)
    token = t.syncio.create_new_session("u1").get_access_token()
    start = clock.now
    flags = [
        t.engine.verify_access_token(token, None, now=start + second * 1000).activity_due
        for second in range(0, 181)
    ]
    # Issued at 0 (the login recorded activity then): looked at 60 s on, then each minute.
    assert [i for i, flagged in enumerate(flags) if flagged] == [60, 120, 180]
    off = make_tessera(activity_write_interval=0)
    assert not any(
        off.engine.verify_access_token(token, None, now=start + s * 1000).activity_due
        for s in range(0, 200, 7)
    )
