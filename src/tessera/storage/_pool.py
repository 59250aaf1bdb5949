"""A small thread-safe pool of DB-API connections, shared by the SQL backends.

It does three things a bare connection does not: bounds how many connections are open,
replaces a connection that broke (a database restart, a dropped socket) by retrying
once on a fresh one, and never reuses a connection inherited across ``fork()``.
Every driver error leaves here as ``StorageError``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import StorageError

__all__ = ["ConnectionPool"]

T = TypeVar("T")

#: How long a caller waits for a free connection before the store reports itself busy.
CHECKOUT_TIMEOUT_S = 30.0


class ConnectionPool:
    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        size: int,
        driver_errors: tuple[type[BaseException], ...],
        retryable_errors: tuple[type[BaseException], ...],
        backend: str,
    ) -> None:
        self._connect = connect
        self._size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._driver_errors = driver_errors
        self._retryable = retryable_errors
        self._backend = backend
        self._pid = os.getpid()
        # Connections inherited from a parent process: never used, never closed (closing
        # would end the parent's session on the same socket), only kept from the GC.
        self._inherited: list[Any] = []
        self._closed = False
        pool = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _adopt_in_child(pool))

    def run(self, work: Callable[[Any], T]) -> T:
        """Call ``work(connection)``; on a broken reused connection, once more on a new one."""
        for attempt in (1, 2):
            if not self._slots.acquire(timeout=CHECKOUT_TIMEOUT_S):
                raise StorageError(f"{self._backend}: no free database connection (pool exhausted)")
            try:
                connection, reused = self._checkout()
                try:
                    result = work(connection)
                except self._driver_errors as exc:
                    self._discard(connection)
                    if attempt == 1 and reused and isinstance(exc, self._retryable):
                        continue
                    raise StorageError(f"{self._backend}: {type(exc).__name__}: {exc}") from exc
                except BaseException:
                    # Not the database's fault, but the connection may be mid-transaction.
                    self._discard(connection)
                    raise
                self._checkin(connection)
                return result
            finally:
                self._slots.release()
        raise AssertionError("unreachable")  # pragma: no cover

    def _checkout(self) -> tuple[Any, bool]:
        with self._lock:
            if self._closed:
                raise StorageError(f"{self._backend}: the store is closed")
            if self._idle:
                return self._idle.pop(), True
        try:
            return self._connect(), False
        except self._driver_errors as exc:
            raise StorageError(f"{self._backend}: cannot connect: {exc}") from exc

    def _checkin(self, connection: Any) -> None:
        with self._lock:
            if not self._closed and os.getpid() == self._pid:
                self._idle.append(connection)
                return
        self._close_quietly(connection)

    def _discard(self, connection: Any) -> None:
        self._close_quietly(connection)

    def _close_quietly(self, connection: Any) -> None:
        # A broken connection may fail to close; it is gone either way.
        with contextlib.suppress(Exception):
            connection.close()

    def _start_over_after_fork(self) -> None:
        # Runs in the child, alone, right after fork(): the parent's threads are gone, so
        # its lock may be held forever and its slot count is wrong. Start from scratch.
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._size)
        self._inherited.extend(self._idle)
        self._idle = []
        self._pid = os.getpid()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            self._close_quietly(connection)


def _adopt_in_child(pool: weakref.ref[ConnectionPool]) -> None:
    alive = pool()
    if alive is not None:
        alive._start_over_after_fork()
