"""A database that crashes and restarts under load: tessera rides it out, without a
restart of its own, and loses no session it acknowledged.

It runs a PostgreSQL server of its own (``tests/_support/private_postgres.py``), so the
shared one is never disturbed. Without the server binaries it is skipped, except in CI.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tessera import StorageError, Tessera

from .._support.clock import FakeClock
from .._support.private_postgres import PrivatePostgres, why_unavailable


@pytest.fixture
def server() -> PrivatePostgres:
    missing = why_unavailable()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a private PostgreSQL server: {missing}")
        pytest.skip(missing)
    return PrivatePostgres()


def test_restart_mid_load_loses_no_acknowledged_session(
    server: PrivatePostgres, clock: FakeClock
) -> None:
    with server:
        t = Tessera(
            server.url,
            clock=clock,
            database_pool_size=4,
            expired_session_purge_interval=0,
            refresh_token_grace_period=10,
            database_connect_timeout=2,
            database_statement_timeout=1,
            database_socket_timeout=2,
        )
        try:
            run_load_across_a_restart(t, server, clock)
        finally:
            t.close()


def run_load_across_a_restart(t: Tessera, server: PrivatePostgres, clock: FakeClock) -> None:
    lock = threading.Lock()
    #: handle -> the refresh token its client holds (the last one it was given)
    acknowledged: dict[str, str] = {}
    created_after_restart: list[str] = []
    storage_failures: list[StorageError] = []
    unexpected: list[BaseException] = []
    restarted = threading.Event()
    stop = threading.Event()

    def client(number: int) -> None:
        mine: list[str] = []
        while not stop.is_set():
            try:
                session = t.syncio.create_new_session(f"user-{number}")
                token = session.get_all_session_tokens_dangerously()["refreshToken"]
                assert token is not None
                with lock:
                    acknowledged[session.get_handle()] = token
                    if restarted.is_set():
                        created_after_restart.append(session.get_handle())
                mine.append(session.get_handle())
                for handle in mine[-3:]:
                    renewed = t.syncio.refresh_session_without_request_response(
                        acknowledged[handle]
                    )
                    token = renewed.get_all_session_tokens_dangerously()["refreshToken"]
                    assert token is not None
                    with lock:
                        acknowledged[handle] = token
            except StorageError as exc:
                storage_failures.append(exc)
                time.sleep(0.02)  # the client keeps its tokens and tries again
            except BaseException as exc:  # theft, a logout: what must not happen
                unexpected.append(exc)
                return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        server.restart("immediate")  # a crash: no goodbye to any connection
        clock.advance(60)  # retries of refreshes cut short come after the grace period
        restarted.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(created_after_restart) < 8:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not unexpected, unexpected
    assert storage_failures, "the restart went unnoticed: nothing was tested"
    assert len(created_after_restart) >= 8, "tessera did not recover after the restart"
    clock.advance(60)
    for handle, token in acknowledged.items():
        assert t.syncio.get_session_information(handle) is not None, handle
        assert t.syncio.refresh_session_without_request_response(token).get_handle() == handle
