"""The feed against real servers, in one process: out-of-order commits, a log that
cannot be read (fallback to the database, then catch-up), signal connections killed
server-side, forked children, async callers, clean shutdown."""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera import Tessera, UnauthorisedError
from tessera.revocation import RevocationFeed, RevokingStore
from tessera.storage import SqlStore, open_store

from .._support.databases import REDIS_URL, SERVER_URLS, database_url, redis_or_skip
from .._support.waiting import eventually


def make_feed(store: SqlStore, **overrides: Any) -> RevocationFeed:
    settings: dict[str, Any] = {
        "max_staleness": 1.0,
        "poll_interval": 0.1,
        "gap_timeout": 30.0,
        "window": 120.0,
    }
    return RevocationFeed(store, **(settings | overrides))


def _insert_log_row(store: SqlStore, connection: Any, handle: str) -> None:
    # What the store's delete path writes, by hand, to hold the transaction open.
    cursor = connection.cursor()
    cursor.execute(store.dialect.begin_statement)
    cursor.execute(
        store._sql(
            f"INSERT INTO {store.prefix}revocations (app_id, session_handle, revoked_at) "
            f"VALUES (?, ?, {store.dialect.now_ms_sql})"
        ),
        ("public", handle),
    )


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_number_that_commits_after_a_later_one_is_not_missed(store: SqlStore) -> None:
    feed = make_feed(store)
    view = feed.view("public")
    first, second = store.dialect.connect(), store.dialect.connect()
    try:
        assert feed.wait_until_healthy(10)
        _insert_log_row(store, first, "slow")  # takes number N, does not commit yet
        _insert_log_row(store, second, "quick")  # takes N + 1
        second.cursor().execute("COMMIT")
        assert eventually(lambda: view.is_revoked("quick") is True, 5)
        time.sleep(0.3)  # several reads pass N + 1 while N is invisible
        assert view.is_revoked("slow") is False
        first.cursor().execute("COMMIT")
        # A reader that went on from the highest number seen would never get here.
        assert eventually(lambda: view.is_revoked("slow") is True, 2)
    finally:
        first.close()
        second.close()
        feed.close()


PG_SUPER = SERVER_URLS["postgresql"]


@pytest.fixture
def pg_role(store_factory: Callable[..., SqlStore]) -> Iterator[str]:
    """A login role of our own (so its privileges can be taken away), on PostgreSQL.
    Tables it creates are dropped with it."""
    psycopg = pytest.importorskip("psycopg")
    store_factory()  # skips when the server is down
    role = f"feed_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_SUPER, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}")
    try:
        yield role
    finally:
        with psycopg.connect(PG_SUPER, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_SUPER, autocommit=True) as admin:
        admin.execute(statement)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_unreadable_log_falls_back_to_the_database_then_catches_up(
    pg_role: str, table_prefix: str
) -> None:
    bound = 0.5
    settings: dict[str, Any] = {
        "table_name_prefix": table_prefix,
        "access_token_blacklisting": True,
        "revocation_max_staleness": bound,
        "expired_session_purge_interval": 0,
    }
    url = PG_SUPER.replace("postgres@", f"{pg_role}@", 1)
    # The verifier, as a role whose rights we can take; it creates (owns) the tables.
    b = Tessera(url, **{**settings, "table_name_prefix": f"{table_prefix}r_"})
    table_prefix = f"{table_prefix}r_"
    settings["table_name_prefix"] = table_prefix
    a = Tessera(PG_SUPER, **settings)
    try:
        sessions = [a.syncio.create_new_session(f"u{i}") for i in range(4)]
        tokens = [x.get_access_token() for x in sessions]
        assert b.revocations.wait_until_healthy(10)

        _admin(f"REVOKE SELECT ON {table_prefix}revocations FROM {pg_role}")
        revoked_at = time.monotonic()
        a.syncio.revoke_session(sessions[0].get_handle())
        # Within the bound the feed is no longer trusted: the database answers.
        assert eventually(lambda: b.revocation_stats().state == "fallback", bound + 1.0)
        assert time.monotonic() - revoked_at <= bound + 1.0
        fallbacks = b.revocation_stats().database_fallbacks
        with pytest.raises(UnauthorisedError):
            b.syncio.get_session_without_request_response(tokens[0])
        assert b.revocation_stats().database_fallbacks > fallbacks
        a.syncio.revoke_multiple_sessions([x.get_handle() for x in sessions[1:3]])
        for token in tokens[:3]:
            with pytest.raises(UnauthorisedError):
                b.syncio.get_session_without_request_response(token)
        assert b.syncio.get_session_without_request_response(tokens[3]) is not None

        _admin(f"GRANT SELECT ON {table_prefix}revocations TO {pg_role}")
        assert eventually(lambda: b.revocation_stats().state == "healthy", 5)
        # Caught up: every revocation of the outage is in the deny set.
        assert all(b.engine.is_revoked(x.get_handle()) for x in sessions[:3])
        assert b.engine.is_revoked(sessions[3].get_handle()) is False
    finally:
        a.close()
        b.close()


def _kill_pg_listener(pid: int) -> int:
    import psycopg

    with psycopg.connect(PG_SUPER, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"tessera-revocation-feed-{pid}",),
        ).fetchall()
    return len(rows)


def _kill_redis_subscribers(pid: int) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        name = f"tessera-revocation-feed-{pid}"
        return sum(
            int(client.client_kill_filter(_id=entry["id"]))
            for entry in client.client_list()
            if entry.get("name") == name
        )
    finally:
        client.close()


@pytest.mark.parametrize(("backend", "signal"), [("postgresql", "postgresql"), ("sqlite", "redis")])
def test_signal_killed_server_side_reconnects_and_nothing_is_missed(
    backend: str, signal: str, tmp_path: Path, table_prefix: str, store: SqlStore
) -> None:
    if signal == "redis":
        redis_or_skip()
    settings: dict[str, Any] = {
        "table_name_prefix": table_prefix,
        "access_token_blacklisting": True,
        "revocation_max_staleness": 1.0,
        "revocation_channel": REDIS_URL if signal == "redis" else None,
        "expired_session_purge_interval": 0,
    }
    url = database_url(backend, tmp_path)
    a, b = Tessera(url, **settings), Tessera(url, **settings)
    try:
        sessions = [a.syncio.create_new_session(f"u{i}") for i in range(6)]
        assert b.revocations.wait_until_healthy(10)
        assert eventually(lambda: b.revocation_stats().signal_connected, 5)
        for i, session in enumerate(sessions):
            assert eventually(lambda: b.revocation_stats().signal_connected, 15), "reconnect"
            if signal == "postgresql":
                assert _kill_pg_listener(_pid()) >= 1
            else:
                assert _kill_redis_subscribers(_pid()) >= 1
            started = time.monotonic()
            a.syncio.revoke_session(session.get_handle())
            # Signal or not, the poll finds it within the bound.
            token: str = session.get_access_token()
            assert eventually(functools.partial(_refused, b, token), 2.5), f"revocation {i}"
            assert time.monotonic() - started <= 2.5
        assert eventually(lambda: b.revocation_stats().signal_connected, 15)
        assert all(b.engine.is_revoked(x.get_handle()) for x in sessions)
    finally:
        a.close()
        b.close()


def _pid() -> int:
    import os

    return os.getpid()


def _refused(t: Tessera, token: str) -> bool:
    try:
        t.syncio.get_session_without_request_response(token)
    except UnauthorisedError:
        return True
    return False


def _verify_in_forked_child(args: tuple[Tessera, str, str, Any]) -> None:
    t, live, revoked, results = args
    try:
        started = t.revocations.wait_until_healthy(10)
        threads = [x.name for x in threading.enumerate()]
        results.put((started, _refused(t, revoked), _refused(t, live), threads))
    finally:
        t.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_forked_child_runs_its_own_feed(make_tessera: Callable[..., Tessera]) -> None:
    t = make_tessera(access_token_blacklisting=True)
    live, revoked = t.syncio.create_new_session("u1"), t.syncio.create_new_session("u2")
    assert t.revocations.wait_until_healthy(10)
    t.syncio.revoke_session(revoked.get_handle())
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(
        target=_verify_in_forked_child,
        args=((t, live.get_access_token(), revoked.get_access_token(), results),),
    )
    child.start()
    child.join(30)
    assert child.exitcode == 0
    started, revoked_refused, live_refused, threads = results.get(timeout=5)
    assert started, "the child's feed never became healthy"
    assert revoked_refused
    assert not live_refused
    assert "tessera-revocations" in threads
    results.close()
    results.join_thread()


async def test_async_blacklisting_verification_needs_no_thread_when_healthy(
    make_tessera: Callable[..., Tessera],
) -> None:
    t = make_tessera(access_token_blacklisting=True)
    session = await t.asyncio.create_new_session("u1")
    assert t.revocations.wait_until_healthy(10)
    t._threads.close()  # any trip to a thread would now fail
    assert await t.asyncio.get_session_without_request_response(session.get_access_token())


def test_close_leaves_no_thread_and_no_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/close.db"
    t = Tessera(url, access_token_blacklisting=True, expired_session_purge_interval=0)
    t.syncio.create_new_session("u1")
    assert t.revocations.wait_until_healthy(10)
    t.close()
    assert not any(x.name == "tessera-revocations" for x in threading.enumerate())
    assert t.revocation_stats().state == "stopped"
    t.revocations.ensure_running()  # closed stays closed
    assert t.revocation_stats().state == "stopped"


def test_feed_starts_only_when_revocation_is_checked(tmp_path: Path) -> None:
    t = Tessera(f"sqlite:///{tmp_path}/lazy.db", expired_session_purge_interval=0)
    try:
        session = t.syncio.create_new_session("u1")
        token = session.get_access_token()
        t.syncio.get_session_without_request_response(token)
        assert t.revocation_stats().state == "stopped"
        # check_database=True: the first call reads the database and starts the feed.
        t.syncio.get_session_without_request_response(token, check_database=True)
        assert t.revocation_stats().state != "stopped"
    finally:
        t.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_log_rows_and_deny_set_entries_expire(store: SqlStore) -> None:
    feed = make_feed(store, window=0.2)
    try:
        store.create_session(_record("h1"))
        store.delete_sessions(["h1"])
        assert feed.wait_until_healthy(10)
        view = feed.view("public")
        assert view.is_revoked("h1") is True
        feed._deny.expire(time.monotonic() + 1)
        assert view.is_revoked("h1") is False
        assert store.purge_revocations(60_000) == 0
        time.sleep(0.3)
        assert store.purge_revocations(200) == 1
    finally:
        feed.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_removing_a_tenant_or_an_app_is_refused_here_at_once(store: SqlStore) -> None:
    # The feed reads the log every 30 s (SQLite sends no signal): until then only the
    # revoking store can tell it.
    feed = make_feed(store, max_staleness=60.0, poll_interval=30.0)
    revoking = RevokingStore(store, feed)
    try:
        assert feed.wait_until_healthy(10)
        shop = store.for_app("shop")
        store.put_tenant("shop", "public", {}, 0)
        store.put_tenant("shop", "blue", {}, 0)
        shop.create_session(_record("b1", tenant_id="blue"))
        shop.create_session(_record("p1"))
        view = feed.view("shop")
        assert revoking.delete_tenant("shop", "blue").existed
        assert view.is_revoked("b1") is True
        assert view.is_revoked("p1") is not True
        assert revoking.delete_tenant("shop", None).revoked == ["p1"]
        assert view.is_revoked("p1") is True
    finally:
        feed.close()


def _record(handle: str, tenant_id: str = "public") -> Any:
    from .._support.records import record

    return record(handle, expires_at=int(time.time() * 1000) + 60_000, tenant_id=tenant_id)


def test_revocation_channel_is_named_by_table_prefix(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/x.db")
    try:
        assert store.revocation_channel == "tessera_revocations"
    finally:
        store.close()
