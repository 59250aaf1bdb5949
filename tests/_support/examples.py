"""Starting the example apps of ``examples/`` as a user would: with the command in each
one's docstring, on free ports."""

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
#: The examples with one server each (``cross_origin_app`` has two).
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
def start_example(example: str, tmp_path: Path) -> Iterator[dict[str, str]]:
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
