"""Every example, started with the command in its docstring, used over real HTTP."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[2]
EXAMPLES = ["fastapi_app", "starlette_app", "flask_app", "django_app"]


def _command(example: str, port: int) -> list[str]:
    source = (ROOT / "examples" / f"{example}.py").read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    match = re.search(r"^\s*((?:uvicorn|flask|python) .+)$", docstring, re.MULTILINE)
    assert match, f"{example} has no start command in its docstring"
    words = re.sub(r"\b30\d\d\b", str(port), match.group(1)).split()
    if words[0] == "python":
        words = [sys.executable, *words[1:], "--noreload"]
    else:
        words = [sys.executable, "-m", *words]
    return words


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=EXAMPLES)
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "TESSERA_DATABASE": f"sqlite:///{tmp_path}/example.db"}
    log = tmp_path / "server.log"
    with log.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - the example's own command line
            _command(str(request.param), port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(f"{request.param} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _login(client: httpx.Client, user: str) -> str:
    response = client.post("/login", json={"userId": user}, headers={"st-auth-mode": "cookie"})
    assert response.status_code == 200
    return str(response.json()["handle"])


def _login_elsewhere(url: str, user: str) -> str:
    with httpx.Client(base_url=url, timeout=10) as other:
        return _login(other, user)


def test_example(example: str) -> None:
    with httpx.Client(base_url=example, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "supertokensSession.init" in page.text
        assert client.get("/sdk/session.js").status_code in (200, 302, 307)
        assert client.get("/me").status_code == 401

        handle = _login(client, "alice")
        assert client.get("/me").json() == {"userId": "alice", "handle": handle}

        # method 2: by handle
        assert client.post("/revoke-session", json={"sessionHandle": handle}).json() == {
            "revoked": True
        }
        # method 3: several handles
        handles = [_login_elsewhere(example, "bob") for _ in range(2)]
        revoked = client.post("/revoke-multiple-sessions", json={"sessionHandles": handles}).json()
        assert sorted(revoked["revoked"]) == sorted(handles)
        # method 4: every session of a user
        carol = {_login_elsewhere(example, "carol") for _ in range(2)}
        assert (
            set(
                client.post("/revoke-all-user-sessions", json={"userId": "carol"}).json()["revoked"]
            )
            == carol
        )

        # method 1: the caller's own session, cookies cleared
        _login(client, "dave")
        logout = client.post("/logout")
        assert logout.status_code == 200
        assert logout.headers["front-token"] == "remove"
        assert client.get("/me").status_code == 401
        # the refresh and sign-out APIs are served
        assert client.post("/auth/session/refresh").status_code == 401
        assert client.post("/auth/signout").status_code == 401
