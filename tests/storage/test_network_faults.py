"""Network faults between tessera and a real database server, through a TCP proxy.

Under every fault: calls fail with ``StorageError`` within the configured time limits,
nobody is logged out or accused of theft, and once traffic flows again the same
``Tessera`` object works, with the same tokens, without a restart.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tessera import StorageError, Tessera
from tessera.storage import SqlStore, Timeouts, open_store

from .._support.clock import FakeClock
from .._support.databases import SERVER_URLS, unavailable
from .._support.faultproxy import FaultProxy

LIMITS = Timeouts(connect=2, statement=0.5, socket=1)
#: The longest a failing call may take: a free connection, a new one, its answer.
BOUND = LIMITS.socket + LIMITS.connect + LIMITS.socket + 0.5


class Faulty:
    def __init__(self, t: Tessera, proxy: FaultProxy, clock: FakeClock) -> None:
        self.t, self.proxy, self.clock = t, proxy, clock


@pytest.fixture(params=["postgresql", "mysql"])
def faulty(request: pytest.FixtureRequest, table_prefix: str, clock: FakeClock) -> Iterator[Faulty]:
    url = SERVER_URLS[request.param]
    try:
        open_store(url, table_name_prefix=table_prefix).close()
    except StorageError as exc:
        unavailable(request.param, str(exc))
    parts = urlsplit(url)
    proxy = FaultProxy(parts.hostname or "127.0.0.1", parts.port or 0)
    t = Tessera(
        proxy.url_for(url),
        clock=clock,
        table_name_prefix=table_prefix,
        database_pool_size=4,
        expired_session_purge_interval=0,
        refresh_token_grace_period=10,
        database_connect_timeout=LIMITS.connect,
        database_statement_timeout=LIMITS.statement,
        database_socket_timeout=LIMITS.socket,
    )
    try:
        yield Faulty(t, proxy, clock)
    finally:
        proxy.pass_traffic()
        t.store.drop_tables()  # type: ignore[attr-defined]
        t.close()
        proxy.close()


def fails_in_bounded_time(call: Callable[[], Any]) -> float:
    started = time.monotonic()
    with pytest.raises(StorageError):
        call()
    took = time.monotonic() - started
    assert took < BOUND, f"took {took:.1f} s"
    return took


def refresh_token_of(session: Any) -> str:
    token = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert isinstance(token, str)
    return token


@pytest.mark.parametrize("fault", ["blackhole", "lose_answers", "slow"])
def test_silent_database_fails_fast_and_logs_nobody_out(faulty: Faulty, fault: str) -> None:
    t, proxy = faulty.t, faulty.proxy
    session = t.syncio.create_new_session("user-1", {"plan": "pro"})
    access, refresh = session.get_access_token(), refresh_token_of(session)
    handle = session.get_handle()
    if fault == "slow":
        proxy.delay = 1.5  # every answer arrives after the socket timeout
    else:
        getattr(proxy, fault)()
    sync = t.syncio
    calls: list[Callable[[], Any]] = [
        lambda: sync.refresh_session_without_request_response(refresh),
        lambda: sync.get_session_without_request_response(access, check_database=True),
        lambda: sync.create_new_session("user-2"),
        lambda: sync.revoke_all_sessions_for_user("user-1"),
        lambda: sync.merge_into_access_token_payload(handle, {"x": 1}),
        lambda: sync.get_session_information(handle),
    ]
    # All at once: more callers than connections, so waiting for one is bounded too.
    failures: list[BaseException] = []

    def call(work: Callable[[], Any]) -> None:
        try:
            fails_in_bounded_time(work)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(work,)) for work in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    proxy.pass_traffic()
    faulty.clock.advance(60)  # well past the grace period
    # Some writes may have reached the database, but the session is there, and the
    # refresh token the client still holds works.
    assert sync.get_session_information(handle) is not None
    renewed = sync.refresh_session_without_request_response(refresh)
    assert renewed.get_handle() == handle
    assert sync.get_session_without_request_response(
        renewed.get_access_token(), check_database=True
    )


async def test_async_callers_are_bounded_too(faulty: Faulty) -> None:
    t, proxy = faulty.t, faulty.proxy
    session = await t.asyncio.create_new_session("user-1")
    proxy.blackhole()
    started = time.monotonic()
    with pytest.raises(StorageError):
        await t.asyncio.refresh_session_without_request_response(refresh_token_of(session))
    assert time.monotonic() - started < BOUND
    proxy.pass_traffic()
    assert await t.asyncio.get_session_information(session.get_handle()) is not None


def test_lost_answer_to_a_refresh_is_not_theft(
    faulty: Faulty, monkeypatch: pytest.MonkeyPatch
) -> None:
    t, proxy = faulty.t, faulty.proxy
    session = t.syncio.create_new_session("user-1")
    parent = refresh_token_of(session)
    rotate = t.store.rotate_refresh_token

    def rotate_then_lose_the_answer(*args: Any, **kwargs: Any) -> bool:
        proxy.lose_answers()  # the UPDATE reaches the database; its answer does not
        return rotate(*args, **kwargs)

    monkeypatch.setattr(t.store, "rotate_refresh_token", rotate_then_lose_the_answer)
    fails_in_bounded_time(lambda: t.syncio.refresh_session_without_request_response(parent))
    monkeypatch.undo()
    proxy.pass_traffic()
    record = t.store.load_session(session.get_handle())
    assert record is not None
    assert record.previous_refresh_token_hash is not None  # the rotation did commit
    faulty.clock.advance(600)
    renewed = t.syncio.refresh_session_without_request_response(parent)
    t.syncio.refresh_session_without_request_response(refresh_token_of(renewed))


def test_cut_and_refused_connections_fail_fast_and_recover(faulty: Faulty) -> None:
    t, proxy = faulty.t, faulty.proxy
    session = t.syncio.create_new_session("user-1")
    handle = session.get_handle()
    # Every pooled connection is reset while idle: the next calls do not even notice.
    proxy.cut()
    assert t.syncio.get_session_information(handle) is not None
    # A server that is down: fast failures, not waits.
    proxy.refuse()
    took = fails_in_bounded_time(lambda: t.syncio.get_session_information(handle))
    assert took < LIMITS.socket
    proxy.pass_traffic()
    # A connection reset in the middle of a refresh.
    proxy.delay = 0.3
    cutter = threading.Timer(0.45, proxy.cut)
    cutter.start()
    refresh = refresh_token_of(session)
    with contextlib.suppress(StorageError):
        refresh = refresh_token_of(t.syncio.refresh_session_without_request_response(refresh))
    cutter.join()
    proxy.pass_traffic()
    faulty.clock.advance(60)
    assert t.syncio.refresh_session_without_request_response(refresh).get_handle() == handle


def test_faults_during_load_lose_no_session_and_accuse_nobody(faulty: Faulty) -> None:
    t, proxy, clock = faulty.t, faulty.proxy, faulty.clock
    clients = [t.syncio.create_new_session(f"user-{i}") for i in range(4)]
    held = {c.get_handle(): refresh_token_of(c) for c in clients}
    unexpected: list[BaseException] = []
    stop = threading.Event()

    def client(handle: str) -> None:
        while not stop.is_set():
            try:
                renewed = t.syncio.refresh_session_without_request_response(held[handle])
                held[handle] = refresh_token_of(renewed)
                t.syncio.get_session_without_request_response(
                    renewed.get_access_token(), check_database=True
                )
            except StorageError:
                time.sleep(0.02)  # keep the old token and try again, as a client does
            except BaseException as exc:  # theft, a logout: what must not happen
                unexpected.append(exc)
                return

    threads = [threading.Thread(target=client, args=(handle,)) for handle in held]
    for thread in threads:
        thread.start()
    faults: list[Callable[[], None]] = [
        proxy.blackhole,
        proxy.lose_answers,
        proxy.cut,
        proxy.refuse,
        lambda: setattr(proxy, "delay", 0.6),
    ]
    random.Random(7).shuffle(faults)
    try:
        for fault in faults:
            time.sleep(0.3)
            fault()
            time.sleep(0.6)
            proxy.pass_traffic()
            clock.advance(30)  # every retry after a fault comes after the grace period
    finally:
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=BOUND * 3)
    assert not unexpected, unexpected
    clock.advance(30)
    for handle, refresh in held.items():
        assert t.syncio.get_session_information(handle) is not None
        assert t.syncio.refresh_session_without_request_response(refresh).get_handle() == handle


def test_revocation_feed_keeps_to_the_time_limits(faulty: Faulty) -> None:
    t, proxy = faulty.t, faulty.proxy
    access = t.syncio.create_new_session("user-1").get_access_token()
    feed = t.revocations
    assert feed.wait_until_healthy(10)
    assert isinstance(t.store, SqlStore)
    if t.store.dialect.name == "postgresql":
        # The LISTEN connection is opened by the store's dialect, with the store's limits.
        deadline = time.monotonic() + 5
        while not feed.stats().signal_connected:
            assert time.monotonic() < deadline, "the LISTEN connection did not open"
            time.sleep(0.05)
        listening: Any = getattr(feed._signal, "_connection", None)
        parameters = listening.info.get_parameters()
        assert parameters["connect_timeout"] == str(int(LIMITS.connect))
        assert f"statement_timeout={int(LIMITS.statement * 1000)}" in parameters["options"]
        assert parameters["application_name"].startswith("tessera-revocation-feed-")
    failures = feed.read_failures
    proxy.blackhole()
    started = time.monotonic()
    # A read of the log over a silent network gives up; it does not hang the feed.
    while feed.read_failures == failures or feed.trusted():
        assert time.monotonic() - started < BOUND, "a read of the revocation log hung"
        time.sleep(0.05)
    assert feed.stats().state == "fallback"
    # The feed cannot vouch for the session, and the database read fails in bounded time.
    fails_in_bounded_time(
        lambda: t.syncio.get_session_without_request_response(access, check_database=True)
    )
    proxy.pass_traffic()
    assert feed.wait_until_healthy(BOUND * 2)
    assert t.syncio.get_session_without_request_response(access, check_database=True)
