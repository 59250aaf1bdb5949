"""A failing database is reported as a storage failure: never as theft, never as a logout,
and nothing is lost once it comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tessera import StorageError, Tessera, TesseraError, TokenTheftError, UnauthorisedError
from tessera.storage import SqlStore

from .._support.clock import FakeClock

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
    idle = [pooled.raw for pooled in t.store._pool._idle]
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


def test_lost_answer_to_the_rotation_is_not_theft(
    make_tessera: MakeTessera, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    session = t.syncio.create_new_session("user-1")
    parent = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert parent is not None
    rotate = t.store.rotate_refresh_token

    def commit_then_lose_the_answer(*args: Any, **kwargs: Any) -> bool:
        rotate(*args, **kwargs)
        raise StorageError("connection lost before the answer arrived")

    monkeypatch.setattr(t.store, "rotate_refresh_token", commit_then_lose_the_answer)
    with pytest.raises(StorageError):
        t.syncio.refresh_session_without_request_response(parent)
    monkeypatch.undo()
    # The client never saw the new tokens, and retries long after the grace period.
    clock.advance(600)
    renewed = t.syncio.refresh_session_without_request_response(parent)
    assert renewed.get_handle() == session.get_handle()
    child = renewed.get_all_session_tokens_dangerously()["refreshToken"]
    assert child is not None
    # The new tokens went out: the parent is covered by the grace period only, so a
    # stolen copy does not stay usable.
    clock.advance(5)
    assert t.syncio.refresh_session_without_request_response(parent).get_handle()
    clock.advance(6)
    with pytest.raises(TokenTheftError):
        t.syncio.refresh_session_without_request_response(parent)


def test_pending_rotation_reissue_carries_the_stored_refresh_expiry(
    make_tessera: MakeTessera, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    parent = t.syncio.create_new_session("user-1").get_all_session_tokens_dangerously()
    assert parent["refreshToken"] is not None
    rotated_at = clock()
    rotate = t.store.rotate_refresh_token

    def commit_then_lose_the_answer(*args: Any, **kwargs: Any) -> bool:
        rotate(*args, **kwargs)
        raise StorageError("connection lost before the answer arrived")

    monkeypatch.setattr(t.store, "rotate_refresh_token", commit_then_lose_the_answer)
    with pytest.raises(StorageError):
        t.engine.refresh_session(parent["refreshToken"], None, now=clock(), disable_anti_csrf=True)
    monkeypatch.undo()
    clock.advance(600)  # past the grace period: only the pending rotation covers the retry
    retry = t.engine.refresh_session(
        parent["refreshToken"], None, now=clock(), disable_anti_csrf=True
    )
    # The successor written by the lost rotation, with the expiry stored for it then.
    assert retry.refresh_token_expiry == rotated_at + t.config.refresh_token_validity_ms
    stored = t.store.load_session(retry.session_handle)
    assert stored is not None
    assert retry.refresh_token_expiry == stored.expires_at


def test_replaying_the_parent_after_its_successor_was_used_is_theft(
    make_tessera: MakeTessera, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    parent = t.syncio.create_new_session("user-1").get_all_session_tokens_dangerously()
    assert parent["refreshToken"] is not None

    def lost(*args: Any, **kwargs: Any) -> bool:
        raise StorageError("lost")

    # The rotation commits but its acknowledgement is lost: it stays pending, while
    # the client got the new tokens and goes on with them.
    monkeypatch.setattr(t.store, "acknowledge_rotation", lost)
    child = t.syncio.refresh_session_without_request_response(parent["refreshToken"])
    monkeypatch.undo()
    record = t.store.load_session(child.get_handle())
    assert record is not None
    assert record.rotation_pending
    child_refresh = child.get_all_session_tokens_dangerously()["refreshToken"]
    assert child_refresh is not None
    t.syncio.refresh_session_without_request_response(child_refresh)
    clock.advance(1)
    with pytest.raises(TokenTheftError):
        t.syncio.refresh_session_without_request_response(parent["refreshToken"])


def test_unsignable_stored_payload_does_not_rotate(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    assert isinstance(t.store, SqlStore)
    session = t.syncio.create_new_session("user-1", {"score": 1})
    refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert refresh is not None
    # JSON the database holds but a token cannot carry (written by older code or by hand).
    t.store._execute(
        f"UPDATE {t.store.prefix}sessions SET access_token_payload = ?", ('{"score":NaN}',)
    )
    with pytest.raises((ValueError, TesseraError)) as caught:
        t.syncio.refresh_session_without_request_response(refresh)
    assert not isinstance(caught.value, TokenTheftError)
    clock.advance(600)
    assert t.store.update_access_token_payload(
        session.get_handle(), lambda _: {"score": 2}, t.now()
    )
    # Nothing was rotated: the same token refreshes once the payload is fixed.
    renewed = t.syncio.refresh_session_without_request_response(refresh)
    assert renewed.get_access_token_payload()["score"] == 2
