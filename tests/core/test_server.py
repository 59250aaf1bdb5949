"""The server under the core, driven over real sockets: worker processes die with their
master, slow or idle connections are cut off, connections are limited, and a client
cannot write lines of its own into the request log."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from .._support.cores import CoreProcesses, free_port, launch_core, wait_until_up


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
def test_workers_exit_when_the_master_is_killed(
    tmp_path: Path, process_groups: CoreProcesses
) -> None:
    port = free_port()
    master = launch_core(tmp_path, port, workers="2", new_session=True)
    process_groups.append(master)
    url = wait_until_up(port, master, tmp_path)
    assert httpx.get(f"{url}/apiversion").status_code == 200
    os.kill(master.pid, signal.SIGKILL)
    master.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not _refuses_connections(port):
        time.sleep(0.2)
    assert _refuses_connections(port), "orphaned workers still serve the port"
    # And the core starts again on the same port.
    again = launch_core(tmp_path, port, workers="2", new_session=True)
    process_groups.append(again)
    url = wait_until_up(port, again, tmp_path)
    assert httpx.get(f"{url}/apiversion").status_code == 200


def _open(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    if data:
        sock.sendall(data)
    return sock


def _read_until_closed(sock: socket.socket, deadline: float) -> tuple[bytes, bool]:
    """What the server sent, and whether it closed the connection before ``deadline``."""
    received = b""
    with sock:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return received, False
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk


def _get_hello(port: int) -> bytes:
    return f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def test_idle_and_slow_clients_are_cut_off_by_default(core: str) -> None:
    port = int(core.rsplit(":", 1)[1])
    post = (
        f"POST /recipe/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    started = time.monotonic()
    clients = {
        "idle": _open(port, b""),
        "half-sent headers": _open(port, post[:40]),
        "half-sent body": _open(port, post + b'{"userId": '),
        "idle after a request": _open(port, _get_hello(port)),
    }
    deadline = started + 16
    outcome = {name: _read_until_closed(sock, deadline) for name, sock in clients.items()}
    still_open = [name for name, (_, closed) in outcome.items() if not closed]
    assert not still_open, f"still open after 16 s: {still_open}"
    assert outcome["idle after a request"][0].startswith(b"HTTP/1.1 200")
    assert outcome["half-sent body"][0].startswith(b"HTTP/1.1 408")
    assert b"408" not in outcome["idle"][0]


def test_timeouts_follow_the_settings(tmp_path: Path, process_groups: CoreProcesses) -> None:
    port = free_port()
    process = launch_core(
        tmp_path,
        port,
        new_session=True,
        request_header_timeout="1",
        request_body_timeout="2",
        keep_alive_timeout="1",
    )
    process_groups.append(process)
    wait_until_up(port, process, tmp_path)
    started = time.monotonic()
    idle = _open(port, b"")
    body = _open(
        port,
        f"POST /recipe/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Length: 10\r\n\r\n{".encode(),
    )
    assert _read_until_closed(idle, started + 1.8)[1]
    answer, closed = _read_until_closed(body, started + 3)
    assert closed
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started > 1.8  # the body had its 2 s


def test_connections_beyond_the_limit_are_turned_away(
    tmp_path: Path, process_groups: CoreProcesses
) -> None:
    port = free_port()
    process = launch_core(tmp_path, port, new_session=True, max_connections="3")
    process_groups.append(process)
    wait_until_up(port, process, tmp_path)
    held = [_open(port, b"") for _ in range(3)]
    try:
        time.sleep(0.3)  # the server has accepted them
        extra = _open(port, _get_hello(port))
        answer, closed = _read_until_closed(extra, time.monotonic() + 5)
        assert closed
        assert answer.startswith(b"HTTP/1.1 503")
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(f"http://127.0.0.1:{port}/hello").status_code == 200


def test_a_path_cannot_write_lines_into_the_request_log(
    tmp_path: Path, process_groups: CoreProcesses
) -> None:
    port = free_port()
    process = launch_core(tmp_path, port, new_session=True)
    process_groups.append(process)
    url = wait_until_up(port, process, tmp_path)
    forged = "/x%0a2030-01-01 00:00:00,000 1 INFO tessera.core.access: POST /forged 200 1.0ms"
    assert httpx.get(url + forged).status_code == 404
    assert httpx.get(f"{url}/hello").status_code == 200  # the line before is written
    lines = (tmp_path / "core.log").read_text().splitlines()
    assert not [line for line in lines if line.startswith("2030-")]
    assert any("GET /x\\n2030-01-01" in line for line in lines)
