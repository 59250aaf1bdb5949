"""Fixtures that run real tessera cores (``python -m tessera start --foreground``) on
free loopback ports, each with its own state directory and database (the helpers that
start them are in ``tests/_support/cores.py``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests._support.cores import CoreProcesses, StartCore, free_port, launch_core, wait_until_up
from tests._support.databases import SERVER_URLS


@pytest.fixture(scope="session")
def start_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartCore]:
    """``start_core(**settings)`` runs a core and returns its URL; settings are passed
    as environment variables (``api_keys="..."`` becomes ``API_KEYS``)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> str:
        home = tmp_path_factory.mktemp("core")
        port = free_port()
        process = launch_core(home, port, new_session=False, **settings)
        started.append(process)
        return wait_until_up(port, process, home)

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def process_groups() -> Iterator[CoreProcesses]:
    """Cores a test started with ``new_session``: whatever is left of their process
    groups (master and workers) when the test ends is killed."""
    processes: CoreProcesses = []
    yield processes
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def core(start_core: StartCore) -> str:
    """A core on SQLite with no API key."""
    return start_core()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = SERVER_URLS["postgresql"]
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return url


@pytest.fixture
def postgres_cores(start_core: StartCore, postgres_url: str) -> Iterator[tuple[str, str]]:
    """Two core processes over one PostgreSQL database (their own tables)."""
    prefix = f"c{uuid.uuid4().hex[:8]}_"
    try:
        yield (
            start_core(database_url=postgres_url, table_name_prefix=prefix),
            start_core(database_url=postgres_url, table_name_prefix=prefix),
        )
    finally:
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as connection:
            for table in ("sessions", "signing_keys", "secrets", "schema", "tenants"):
                connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
