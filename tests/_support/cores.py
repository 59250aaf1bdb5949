"""Running real tessera cores (``python -m tessera start --foreground``) on free
loopback ports, each with its own state directory and database; and making apps in them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

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
