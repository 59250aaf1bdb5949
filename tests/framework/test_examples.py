"""Every example, started with the command in its docstring, used over real HTTP."""

from __future__ import annotations

import ast
import contextlib
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


def _command(example: str, ports: dict[str, int]) -> list[str]:
    """The example's start command, each port in it (30xx) replaced by a free one."""
    source = (ROOT / "examples" / f"{example}.py").read_text()
    docstring = ast.get_docstring(ast.parse(source)) or ""
    match = re.search(r"^\s*((?:uvicorn|flask|python) .+)$", docstring, re.MULTILINE)
    assert match, f"{example} has no start command in its docstring"

    def free(found: re.Match[str]) -> str:
        return str(ports.setdefault(found.group(0), _free_port()))

    words = re.sub(r"\b30\d\d\b", free, match.group(1)).split()
    if words[0] == "python":
        words = [sys.executable, *words[1:]]
        if "runserver" in words:
            words.append("--noreload")
    else:
        words = [sys.executable, "-m", *words]
    return words


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _start(example: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Run the example; yield the URL for each port of its docstring ("3001": url)."""
    ports: dict[str, int] = {}
    command = _command(example, ports)
    env = {**os.environ, "TESSERA_DATABASE": f"sqlite:///{tmp_path}/example.db"}
    log = tmp_path / "server.log"
    with log.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - the example's own command line
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    urls = {documented: f"http://127.0.0.1:{port}" for documented, port in ports.items()}
    deadline = time.monotonic() + 30
    for url in urls.values():
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    pytest.fail(f"{example} did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
    try:
        yield urls
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=EXAMPLES)
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _start(str(request.param), tmp_path) as urls:
        (url,) = urls.values()
        yield url


def _login_response(client: httpx.Client, user: str) -> httpx.Response:
    response = client.post("/login", json={"userId": user}, headers={"st-auth-mode": "cookie"})
    assert response.status_code == 200
    return response


def _login(client: httpx.Client, user: str) -> str:
    return str(_login_response(client, user).json()["handle"])


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


def test_cross_origin_example(tmp_path: Path) -> None:
    """The website on one origin, the API on another: every answer the browser needs,
    tessera's own included, carries the CORS headers for the website."""
    with _start("cross_origin_app", tmp_path) as urls:
        api, website = urls["3005"], urls["3006"]
        origin = website.replace("127.0.0.1", "localhost")
        page = httpx.get(website + "/").text
        assert "supertokensSession.init" in page
        assert api.replace("127.0.0.1", "localhost") in page
        with httpx.Client(base_url=api, timeout=10, headers={"origin": origin}) as client:

            def cors(response: httpx.Response) -> httpx.Response:
                assert response.headers["access-control-allow-origin"] == origin
                assert response.headers["access-control-allow-credentials"] == "true"
                return response

            for path in ("/auth/session/refresh", "/auth/signout", "/login"):
                preflight = client.options(
                    path,
                    headers={
                        "access-control-request-method": "POST",
                        "access-control-request-headers": "content-type,rid,fdi-version",
                    },
                )
                assert cors(preflight).status_code == 200
            assert cors(client.post("/auth/session/refresh")).status_code == 401
            assert cors(client.get("/me")).status_code == 401
            login = cors(_login_response(client, "erin"))
            assert "front-token" in login.headers["access-control-expose-headers"]
            assert cors(client.get("/me")).json()["userId"] == "erin"
            refreshed = cors(client.post("/auth/session/refresh", headers={"rid": "session"}))
            assert refreshed.status_code == 200
            assert "front-token" in refreshed.headers["access-control-expose-headers"]
            signed_out = cors(client.post("/auth/signout", headers={"rid": "session"}))
            assert signed_out.status_code == 200
            assert signed_out.headers["front-token"] == "remove"
            assert cors(client.get("/me")).status_code == 401


FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _rows(page: str) -> list[tuple[str, str]]:
    """(row class, device cell) of each row of the devices table."""
    return re.findall(r"<tr class='(current|other)'[^>]*><td class='device'>(.*?)</td>", page)


def test_devices_example(tmp_path: Path) -> None:
    with _start("devices_app", tmp_path) as urls:
        (url,) = urls.values()
        laptop = httpx.Client(base_url=url, timeout=10, headers={"user-agent": FIREFOX})
        phone = httpx.Client(base_url=url, timeout=10, headers={"user-agent": IPHONE})
        hostile = httpx.Client(base_url=url, timeout=10, headers={"user-agent": "<b>x</b>"})
        with laptop, phone, hostile:
            assert "Log in" in laptop.get("/", follow_redirects=True).text
            for client in (laptop, phone, hostile):
                login = client.post("/login", data={"user": "erin"}, follow_redirects=True)
                assert login.status_code == 200
            page = laptop.get("/devices").text
            assert "Your devices" in page
            rows = _rows(page)
            assert ("current", "Firefox 128 on Windows <strong>(this device)</strong>") in rows
            assert ("other", "Mobile Safari 17 on iOS (iPhone)") in rows
            assert ("other", "&lt;b&gt;x&lt;/b&gt;") in rows  # the agent is escaped
            assert "127.0.0.1" in page

            # Log the phone out from the laptop, by its row's handle.
            phone_page = phone.get("/devices").text
            (phone_handle,) = re.findall(r"<tr class='current' data-handle='([^']+)'", phone_page)
            done = laptop.post(f"/devices/{phone_handle}/logout", follow_redirects=True)
            assert len(_rows(done.text)) == 2
            assert phone.get("/devices").status_code == 303  # back to the login page

            # "Log out all other devices" leaves only the laptop.
            done = laptop.post("/devices/logout-others", follow_redirects=True)
            assert _rows(done.text) == [
                ("current", "Firefox 128 on Windows <strong>(this device)</strong>")
            ]
            assert hostile.get("/devices").status_code == 303

            # Logging this device out from its own row ends its session too.
            (own,) = re.findall(r"data-handle='([^']+)'", done.text)
            laptop.post(f"/devices/{own}/logout")
            assert laptop.get("/devices").status_code == 303
