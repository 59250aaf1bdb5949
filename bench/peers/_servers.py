"""Starting, watching and stopping the servers under test: each in its own process group,
on a free loopback port, with its log in the run's temporary directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["Server", "ServerFailed", "free_port"]

HOST = "127.0.0.1"


class ServerFailed(RuntimeError):
    """A server did not start; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process (and its workers), started by ``start`` and ended by ``stop``."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_rss_kib: int | None = None

    def start(self, ready_url: str, timeout: float = 90) -> None:
        with open(self.log, "ab") as sink:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=sink,
                stderr=sink,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited at start-up: {self.log_tail()}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2):  # noqa: S310 - loopback
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer within {timeout:.0f} s: {self.log_tail()}")

    def processes(self) -> list[int]:
        """The server's process and its children (gunicorn's workers)."""
        if self.process is None or self.process.poll() is not None:
            return []
        found = [self.process.pid]
        for pid in list(found):
            found += _children(pid)
        return found

    def measure_rss(self) -> int | None:
        """Peak resident memory (KiB) of the process that serves requests: the worker
        under gunicorn, the process itself under uvicorn or the core."""
        pids = self.processes()
        if not pids:
            return self.peak_rss_kib
        workers = pids[1:] or pids[:1]
        peaks = [p for p in (_vm_hwm(pid) for pid in workers) if p is not None]
        if peaks:
            self.peak_rss_kib = max([*peaks, self.peak_rss_kib or 0])
        return self.peak_rss_kib

    def stop(self) -> None:
        if self.process is None:
            return
        self.measure_rss()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def log_tail(self, lines: int = 12) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
