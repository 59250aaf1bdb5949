"""A throwaway PostgreSQL server of the test's own, in a temporary directory.

Tests that stop and restart a database must not do it to the server everyone else
shares. This one lives in a fresh directory, listens on 127.0.0.1 on a free port (and
a socket in its directory), and is deleted afterwards. PostgreSQL refuses to run as
root, so under root it runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PrivatePostgres", "why_unavailable"]


def _bin_dir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).parent))
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    return None


def _run_as() -> list[str] | None:
    """The command prefix that runs the server's programs as a user other than root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return [runuser, "-u", "postgres", "--"] if runuser else None


def why_unavailable() -> str | None:
    if _bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found"
    if _run_as() is None:
        return "running as root without a 'postgres' user and runuser to run PostgreSQL"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """``with PrivatePostgres() as server: ... server.url ... server.restart()``"""

    def __init__(self) -> None:
        bin_dir, run_as = _bin_dir(), _run_as()
        if bin_dir is None or run_as is None:
            raise RuntimeError(why_unavailable())
        self._bin, self._run_as = bin_dir, run_as
        self.dir = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
        if run_as:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = self.dir / "data"
        self.port = _free_port()
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, program: str, *args: str) -> None:
        command = [*self._run_as, str(self._bin / program), *args]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        done = subprocess.run(  # noqa: S603 - fixed programs and arguments, no shell
            command, capture_output=True, text=True, env=env, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.dir / "server.log")
        self._pg(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "-t", "30", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends sessions cleanly; ``immediate`` is a crash (recovery on start)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(RuntimeError):  # already down
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
