"""A core killed with SIGKILL under load loses nothing it acknowledged: every session whose
create was answered 200 still refreshes once the core is started again."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tessera.storage import SqlStore
from tests._support.databases import database_url

from .._support.cores import CoreProcesses, free_port, launch_core, wait_until_up

CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}
CLIENTS = 4


def _port_free(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _load(url: str, acknowledged: list[str], stop: threading.Event) -> None:
    """Create sessions until told to stop; keep the refresh token of each one answered."""
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            try:
                answer = client.post(f"{url}/recipe/session", json=CREATE)
            except httpx.HTTPError:
                time.sleep(0.05)  # the core is gone; stop comes soon
                continue
            if answer.status_code == 200:
                acknowledged.append(answer.json()["refreshToken"]["token"])


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
@pytest.mark.parametrize(
    ("backend", "killed"),
    [
        ("sqlite", "every process"),
        ("sqlite", "the master"),
        ("postgresql", "every process"),
        ("mysql", "every process"),
    ],
)
def test_acknowledged_sessions_survive_a_kill_under_load(
    backend: str,
    killed: str,
    tmp_path: Path,
    table_prefix: str,
    store_factory: Callable[..., SqlStore],
    process_groups: CoreProcesses,
) -> None:
    store_factory()  # creates the tables (skips if the server is down) and drops them after
    settings = {
        "workers": "2",
        "database_url": database_url(backend, tmp_path),
        "table_name_prefix": table_prefix,
    }
    port = free_port()
    core = launch_core(tmp_path, port, new_session=True, **settings)
    process_groups.append(core)
    url = wait_until_up(port, core, tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(url, acknowledged, stop)) for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 20
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        if killed == "every process":
            os.killpg(core.pid, signal.SIGKILL)
        else:
            os.kill(core.pid, signal.SIGKILL)  # the workers must follow on their own
        core.wait()
        time.sleep(0.3)
    finally:
        stop.set()
        for client in clients:
            client.join()
    assert len(acknowledged) >= 200
    deadline = time.monotonic() + 20
    while not _port_free(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _port_free(port), "processes of the killed core still serve its port"
    again = launch_core(tmp_path, port, new_session=True, **settings)
    process_groups.append(again)
    url = wait_until_up(port, again, tmp_path)
    refused = []
    with httpx.Client(timeout=10) as http:
        for token in acknowledged:
            answer = http.post(
                f"{url}/recipe/session/refresh",
                json={"refreshToken": token, "enableAntiCsrf": False},
            )
            if answer.status_code != 200 or answer.json()["status"] != "OK":
                refused.append(answer.text[:200])
    assert not refused, f"{len(refused)} of {len(acknowledged)} lost: {refused[:3]}"
