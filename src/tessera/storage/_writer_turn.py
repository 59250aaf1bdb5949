"""Writers to one SQLite file take turns in a queue of their own, not in SQLite's.

SQLite lets one writer in at a time. A writer that finds the file locked sleeps and
tries again, 1, 2, 5, 10 ... up to 100 ms at a time, and whoever tries at the right
moment wins: under a steady write load a few unlucky writers sleep 80 ms and more
while others pass them. Here each write first takes this process's lock (threads queue
on it) and then an exclusive ``flock`` on a file beside the database (processes queue
on it), checked every 0.1 to 1 ms, so a writer starts within a millisecond of the
previous one finishing, and SQLite's own lock is free when it asks. ``flock`` locks
belong to one opened file, so each process opens its own (again after a fork).

Readers never take a turn: in WAL mode they do not wait for writers.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: threads still queue, processes do not
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriterTurn"]

_FIRST_PAUSE = 0.0001
_LONGEST_PAUSE = 0.001


class WriterTurn:
    """``with turn():`` around every write to the database at ``path``."""

    def __init__(self, path: str, *, timeout: float) -> None:
        self._lock_path = None if path == ":memory:" else f"{path}-writers"
        self._timeout = timeout
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if not self._thread_lock.acquire(timeout=self._timeout):
            raise sqlite3.OperationalError("database is locked (waited for other writers)")
        try:
            fd = self._file()
            if fd is None:
                yield
                return
            self._flock(fd)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _file(self) -> int | None:
        if self._lock_path is None or fcntl is None:
            return None
        if self._pid != os.getpid():  # first use, or a forked child: a file of our own
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def _flock(self, fd: int) -> None:
        deadline = time.monotonic() + self._timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (waited for other processes' writers)"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE)

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = None, 0
