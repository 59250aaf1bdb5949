"""A PostgreSQL or Redis restart in the middle of a run is survived without restarting
tessera. Each test runs its own throwaway server (never the shared ones)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera import StorageError, Tessera, UnauthorisedError

from .._support.waiting import eventually

BOUND = 1.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def verdict(t: Tessera, token: str) -> str:
    try:
        t.syncio.get_session_without_request_response(token)
    except UnauthorisedError:
        return "refused"
    except StorageError:
        return "unavailable"
    return "ok"


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        assert eventually(self._answers, 10), "private redis did not start"

    def _answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    pytest.importorskip("redis")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip("PostgreSQL server binaries not installed")
    return found[-1]


class PrivatePostgres:
    """initdb + pg_ctl in a temporary directory, run as the postgres user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.datadir = tempfile.mkdtemp(prefix="tessera-pg-")
        shutil.chown(self.datadir, "postgres", "postgres")
        self._as_postgres(_pg_bin("initdb"), "-D", self.datadir, "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        prefix = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        # No pipes: the server would inherit them and hold them open.
        subprocess.run(  # noqa: S603
            [*prefix, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1"
        log = f"{self.datadir}/server.log"
        self._as_postgres(
            _pg_bin("pg_ctl"), "-D", self.datadir, "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres(_pg_bin("pg_ctl"), "-D", self.datadir, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    pytest.importorskip("psycopg")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("runuser needed to run PostgreSQL as its own user")
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def _pair(url: str, **extra: Any) -> tuple[Tessera, Tessera]:
    settings: dict[str, Any] = {
        "access_token_blacklisting": True,
        "revocation_max_staleness": BOUND,
        "expired_session_purge_interval": 0,
        **extra,
    }
    return Tessera(url, **settings), Tessera(url, **settings)


def _refused_within_bound(b: Tessera, token: str) -> None:
    started = time.monotonic()
    assert eventually(lambda: verdict(b, token) == "refused", BOUND + 1.5)
    assert time.monotonic() - started <= BOUND + 1.5


def test_redis_restart_is_survived(private_redis: PrivateRedis, tmp_path: Path) -> None:
    a, b = _pair(f"sqlite:///{tmp_path}/r.db", revocation_channel=private_redis.url)
    try:
        sessions = [a.syncio.create_new_session(f"u{i}") for i in range(4)]
        assert b.revocations.wait_until_healthy(10)
        assert eventually(lambda: b.revocation_stats().signal_connected, 10)
        a.syncio.revoke_session(sessions[0].get_handle())
        _refused_within_bound(b, sessions[0].get_access_token())

        private_redis.stop()
        # Redis is gone: revocations still reach b by polling the log.
        a.syncio.revoke_session(sessions[1].get_handle())
        _refused_within_bound(b, sessions[1].get_access_token())
        assert eventually(lambda: not b.revocation_stats().signal_connected, 15)
        assert b.revocation_stats().state == "healthy"

        private_redis.start()
        assert eventually(lambda: b.revocation_stats().signal_connected, 15), "no reconnect"
        time.sleep(6)  # past the publisher's quiet time after its failure
        a.syncio.revoke_session(sessions[2].get_handle())
        _refused_within_bound(b, sessions[2].get_access_token())
        assert verdict(b, sessions[3].get_access_token()) == "ok"
    finally:
        a.close()
        b.close()


def test_postgresql_restart_is_survived(private_postgres: PrivatePostgres) -> None:
    a, b = _pair(private_postgres.url)
    try:
        sessions = [a.syncio.create_new_session(f"u{i}") for i in range(4)]
        tokens = [s.get_access_token() for s in sessions]
        assert b.revocations.wait_until_healthy(10)
        assert eventually(lambda: b.revocation_stats().signal_connected, 10)
        a.syncio.revoke_session(sessions[0].get_handle())
        _refused_within_bound(b, tokens[0])

        private_postgres.stop()
        # While the database is down nothing revoked is accepted, and after the bound
        # nothing is vouched for by a stale deny set either: the answer is "unavailable".
        assert verdict(b, tokens[0]) == "refused"
        assert eventually(lambda: b.revocation_stats().state == "fallback", BOUND + 1.5)
        assert verdict(b, tokens[3]) == "unavailable"

        private_postgres.start()
        assert eventually(lambda: b.revocation_stats().state == "healthy", 15), "no catch-up"
        a.syncio.revoke_session(sessions[1].get_handle())
        a.syncio.revoke_all_sessions_for_user("u2")
        for token in tokens[:3]:
            _refused_within_bound(b, token)
        assert verdict(b, tokens[3]) == "ok"
        assert eventually(lambda: b.revocation_stats().signal_connected, 15)
        # The signal is back: the next revocation arrives well before the next poll.
        a.syncio.revoke_session(sessions[3].get_handle())
        _refused_within_bound(b, tokens[3])
    finally:
        a.close()
        b.close()
