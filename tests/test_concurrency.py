"""Many refreshes of one token at once: no theft, no fork, no resurrection."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from tessera import SessionError, Tessera, TokenTheftError, UnauthorisedError
from tessera.engine.refresh_token import hash_twice

from ._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]
CONCURRENCY = 50


def _refresh_token(t: Tessera, user: str = "user-1") -> tuple[str, str]:
    session = t.syncio.create_new_session(user)
    refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert refresh is not None
    return session.get_handle(), refresh


def _assert_single_successor(t: Tessera, handle: str, original: str, successors: list[str]) -> None:
    assert len(successors) == CONCURRENCY
    assert len(set(successors)) == 1, "the session forked into several refresh tokens"
    successor = successors[0]
    record = t.store.load_session(handle)
    assert record is not None
    assert record.refresh_token_hash == hash_twice(successor)
    assert record.previous_refresh_token_hash == hash_twice(original)
    # The one successor carries the session on.
    t.syncio.refresh_session_without_request_response(successor)


def test_parallel_refreshes_from_threads(make_tessera: MakeTessera) -> None:
    t = make_tessera(database_pool_size=10)
    handle, refresh = _refresh_token(t)
    barrier = threading.Barrier(CONCURRENCY)
    successors: list[str] = []
    errors: list[BaseException] = []

    def refresh_once() -> None:
        barrier.wait()
        try:
            session = t.syncio.refresh_session_without_request_response(refresh)
        except BaseException as exc:
            errors.append(exc)
            return
        token = session.get_all_session_tokens_dangerously()["refreshToken"]
        assert token is not None
        successors.append(token)

    threads = [threading.Thread(target=refresh_once) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_single_successor(t, handle, refresh, successors)


async def test_parallel_refreshes_from_tasks(make_tessera: MakeTessera) -> None:
    t = make_tessera(database_pool_size=10)
    handle, refresh = _refresh_token(t)
    sessions = await asyncio.gather(
        *(t.asyncio.refresh_session_without_request_response(refresh) for _ in range(CONCURRENCY))
    )
    successors = []
    for session in sessions:
        token = session.get_all_session_tokens_dangerously()["refreshToken"]
        assert token is not None
        successors.append(token)
    _assert_single_successor(t, handle, refresh, successors)


def test_parallel_refreshes_across_two_processes_of_one_app(make_tessera: MakeTessera) -> None:
    first, second = make_tessera(database_pool_size=5), make_tessera(database_pool_size=5)
    _, refresh = _refresh_token(first)
    barrier = threading.Barrier(20)
    successors: list[str] = []

    def refresh_once(t: Tessera) -> None:
        barrier.wait()
        token = t.syncio.refresh_session_without_request_response(refresh)
        value = token.get_all_session_tokens_dangerously()["refreshToken"]
        assert value is not None
        successors.append(value)

    threads = [threading.Thread(target=refresh_once, args=(t,)) for t in [first, second] * 10]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(successors) == 20
    assert len(set(successors)) == 1


def test_revocation_racing_refreshes_stays_revoked(make_tessera: MakeTessera) -> None:
    t = make_tessera(database_pool_size=10)
    handle, refresh = _refresh_token(t)
    barrier = threading.Barrier(21)
    outcomes: list[str] = []

    def refresh_once() -> None:
        barrier.wait()
        try:
            t.syncio.refresh_session_without_request_response(refresh)
            outcomes.append("ok")
        except UnauthorisedError:
            outcomes.append("unauthorised")

    def revoke() -> None:
        barrier.wait()
        t.syncio.revoke_session(handle)

    threads = [threading.Thread(target=refresh_once) for _ in range(20)]
    threads.append(threading.Thread(target=revoke))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 20
    assert t.syncio.get_session_information(handle) is None
    # No refresh that raced the revocation brought the session back.
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh)


def test_theft_after_grace_under_concurrency(make_tessera: MakeTessera, clock: FakeClock) -> None:
    t = make_tessera(refresh_token_grace_period=5)
    handle, refresh = _refresh_token(t)
    t.syncio.refresh_session_without_request_response(refresh)
    clock.advance(6)
    results: list[type[BaseException]] = []

    def replay() -> None:
        try:
            t.syncio.refresh_session_without_request_response(refresh)
        except SessionError as exc:
            results.append(type(exc))

    threads = [threading.Thread(target=replay) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Whoever came first saw the theft and revoked; the rest find no session.
    assert TokenTheftError in results
    expected: set[type[BaseException]] = {TokenTheftError, UnauthorisedError}
    assert set(results) <= expected
    assert len(results) == 10
    assert t.syncio.get_session_information(handle) is None


def test_concurrent_payload_merges_lose_nothing(make_tessera: MakeTessera) -> None:
    t = make_tessera(database_pool_size=10)
    handle = t.syncio.create_new_session("user-1", {"base": 0}).get_handle()
    barrier = threading.Barrier(10)

    def merge(i: int) -> None:
        barrier.wait()
        assert t.syncio.merge_into_access_token_payload(handle, {f"k{i}": i})

    threads = [threading.Thread(target=merge, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    info = t.syncio.get_session_information(handle)
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {
        "base": 0,
        **{f"k{i}": i for i in range(10)},
    }
