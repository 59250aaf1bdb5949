"""The background job that deletes expired sessions, for the app object and the core.

A daemon thread runs ``purge`` every ``interval`` seconds. It starts on demand in each
process (a pre-forking server gets one per worker, not one stranded in the parent),
and logs a database failure instead of dying: the next round tries again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from .errors import StorageError

__all__ = ["ExpiredSessionPurger"]

log = logging.getLogger("tessera")


class ExpiredSessionPurger:
    """``purge`` deletes what has expired (in bounded batches) and returns how many;
    ``interval`` is in seconds, and 0 or less turns the job off."""

    def __init__(self, purge: Callable[[], int], interval: float) -> None:
        self._purge = purge
        self._interval = interval
        self._stop = threading.Event()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the job in this process unless it runs already, is off or was stopped."""
        if self._interval <= 0 or self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid() or self._stop.is_set():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="tessera-purge", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                deleted = self._purge()
            except StorageError as exc:
                log.warning("expired-session purge failed, will retry: %s", exc)
                continue
            if deleted:
                log.info("purged %d expired sessions", deleted)

    def stop(self) -> None:
        """Stop the job for good, waiting briefly for a round under way."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=5)
