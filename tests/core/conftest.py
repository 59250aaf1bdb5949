"""Fixtures that run real tessera cores (``python -m tessera start --foreground``) on
free loopback ports, each with its own state directory and database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SERVER_URLS

StartCore = Callable[..., str]
CoreProcesses = list[subprocess.Popen[bytes]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the core exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/hello", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except urllib.error.HTTPError:
            return  # up, but refusing this client (IP rules)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the core did not answer: {log.read_text()[-2000:]}")


def launch_core(
    home: Path, port: int, *, new_session: bool = False, **settings: str
) -> subprocess.Popen[bytes]:
    """Start ``tessera start --foreground`` with ``home`` as its state directory;
    settings become environment variables (``workers="2"`` is ``WORKERS=2``). Its
    output goes to ``home/core.log``. With ``new_session`` the core leads its own
    process group, so a test can signal the master and its workers together."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update({"TESSERA_HOME": str(home), "WORKERS": "1", "SUPERTOKENS_PORT": str(port)})
    env.update({k.upper(): v for k, v in settings.items()})
    with open(home / "core.log", "ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "tessera", "start", "--foreground"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


def wait_until_up(port: int, process: subprocess.Popen[bytes], home: Path) -> str:
    """The core's URL once ``/hello`` answers; ``RuntimeError`` with its log otherwise."""
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, process, home / "core.log")
    return url


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


def new_app(core_url: str, **core_config: str) -> str:
    """Create an app through the CDI and return its connection URI."""
    import httpx

    app_id = f"t{uuid.uuid4().hex[:12]}"
    answer = httpx.put(
        f"{core_url}/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": core_config},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "OK", "createdNew": True}
    return f"{core_url}/appid-{app_id}"


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
