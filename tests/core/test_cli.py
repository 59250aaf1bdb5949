"""The ``tessera`` command as a new user runs it: start in the background, list, stop,
uninstall."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .._support.cores import free_port


def tessera(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(TESSERA_HOME=str(home), WORKERS="1")
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "tessera", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_start_list_stop_uninstall(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = str(free_port())
    assert "tessera" in tessera(home, "--version").stdout
    assert "start" in tessera(home, "--help").stdout
    started = tessera(home, "start", "--port", port)
    assert started.returncode == 0, started.stderr
    try:
        listed = tessera(home, "list").stdout
        assert port in listed
        assert "127.0.0.1" in listed
        again = tessera(home, "start", "--port", port)
        assert again.returncode == 1
        assert "already running" in again.stderr
    finally:
        stopped = tessera(home, "stop", "--port", port)
    assert stopped.returncode == 0, stopped.stderr
    assert "no tessera core is running" in tessera(home, "list").stdout
    log = (home / "logs" / f"core-{port}.log").read_text()
    assert "GET /hello 200" in log
    assert tessera(home, "uninstall").returncode == 1  # no terminal: needs --yes
    assert tessera(home, "uninstall", "--yes").returncode == 0
    assert not home.exists()


def test_bad_settings_refuse_to_start(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("access_token_validity: -5\n")
    refused = tessera(tmp_path, "start", "--config", str(config))
    assert refused.returncode == 2
    assert "access_token_validity" in refused.stderr
    remote = tessera(tmp_path, "start", "--host", "0.0.0.0")  # noqa: S104
    assert remote.returncode == 2
    assert "API key" in remote.stderr
