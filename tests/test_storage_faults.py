"""A failing database is reported as a storage failure: never as theft, never as a logout,
and nothing is lost once it comes back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tessera import StorageError, Tessera, TokenTheftError, UnauthorisedError
from tessera.storage import SqlStore

from .conftest import FakeClock

MakeTessera = Callable[..., Tessera]


@contextmanager
def sessions_table_missing(store: SqlStore, name: str = "sessions") -> Iterator[None]:
    """Break the database for real: the sessions table disappears under the store."""
    table, hidden = f"{store.prefix}{name}", f"{store.prefix}hidden_{name}"

    def rename(cursor: object, old: str, new: str) -> None:
        cursor.execute(f"ALTER TABLE {old} RENAME TO {new}")  # type: ignore[attr-defined]

    store._run(lambda cursor: rename(cursor, table, hidden))
    try:
        yield
    finally:
        store._run(lambda cursor: rename(cursor, hidden, table))


def test_storage_failure_is_not_theft_and_loses_nothing(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(refresh_token_grace_period=0)
    assert isinstance(t.store, SqlStore)
    session = t.syncio.create_new_session("user-1")
    access = session.get_access_token()
    refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert refresh is not None
    renewed = t.syncio.refresh_session_without_request_response(refresh)
    with sessions_table_missing(t.store):
        # A replayed token during the outage: the store cannot be asked, so no verdict.
        with pytest.raises(StorageError):
            t.syncio.refresh_session_without_request_response(refresh)
        with pytest.raises(StorageError):
            t.syncio.get_session_without_request_response(access, check_database=True)
        with pytest.raises(StorageError):
            t.syncio.create_new_session("user-2")
        with pytest.raises(StorageError):
            t.syncio.revoke_all_sessions_for_user("user-1")
        # Local verification needs no database and keeps working.
        assert t.syncio.get_session_without_request_response(access) is not None
    # Back up: the session is intact, and the replay is now judged as theft.
    new_refresh = renewed.get_all_session_tokens_dangerously()["refreshToken"]
    assert new_refresh is not None
    assert t.syncio.get_session_information(session.get_handle()) is not None
    with pytest.raises(TokenTheftError):
        t.syncio.refresh_session_without_request_response(refresh)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(new_refresh)


async def test_async_callers_get_storage_errors_too(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    assert isinstance(t.store, SqlStore)
    session = await t.asyncio.create_new_session("user-1")
    # The revocation log goes too: a healthy revocation feed would answer without
    # the sessions table.
    with sessions_table_missing(t.store), sessions_table_missing(t.store, "revocations"):
        with pytest.raises(StorageError):
            await t.asyncio.get_session_without_request_response(
                session.get_access_token(), check_database=True
            )
        with pytest.raises(StorageError):
            await session.get_session_data_from_database()


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_dropped_connections_are_replaced(make_tessera: MakeTessera, backend: str) -> None:
    t = make_tessera(database_pool_size=2)
    session = t.syncio.create_new_session("user-1")
    assert isinstance(t.store, SqlStore)
    idle = list(t.store._pool._idle)
    assert idle
    # Kill exactly this pool's server connections, from a connection of our own.
    killer = t.store.dialect.connect()
    try:
        cursor = killer.cursor()
        for connection in idle:
            if backend == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
            else:
                cursor.execute(f"KILL {int(connection.thread_id())}")
    finally:
        killer.close()
    # The pooled connections are dead now; the next calls reconnect on their own.
    for _ in range(3):
        assert t.syncio.get_session_information(session.get_handle()) is not None


def test_background_job_purges_expired_sessions(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(
        expired_session_purge_interval=0.05, refresh_token_validity=1, access_token_validity=10
    )
    expired = t.syncio.create_new_session("user-1").get_handle()
    clock.advance(61)
    live = t.syncio.create_new_session("user-1").get_handle()
    deadline = time.monotonic() + 5
    while t.store.get_session(expired) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert t.store.get_session(expired) is None
    assert t.store.get_session(live) is not None
