"""A small thread-safe pool of DB-API connections, shared by the SQL backends.

It does four things a bare connection does not: bounds how many connections are open,
replaces a connection that broke (a database restart, a dropped socket) by retrying
once on a fresh one, bounds how long anyone waits for the database (see ``Timeouts``),
and never reuses a connection inherited across ``fork()``. Every driver error leaves
here as ``StorageError``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import StorageError

__all__ = ["ConnectionPool", "Timeouts"]

T = TypeVar("T")

_IDLE_EXIT_S = 30.0


@dataclass(frozen=True)
class Timeouts:
    """How long the store waits for the database, in seconds.

    ``statement`` is enforced by the database itself (a statement, lock waits
    included, is cancelled after it); ``socket`` by tessera: an operation whose
    answer has not arrived after it (a silent network, a hung server) loses its
    connection and fails with ``StorageError``. Waiting for a free connection is
    bounded by ``socket`` too, since that is the longest any holder keeps one.
    """

    connect: float = 3.0
    statement: float = 4.0
    socket: float = 5.0


class _Pooled:
    """A driver connection and, where the driver has a socket, our own handle on it."""

    __slots__ = ("guard", "raw")

    def __init__(self, raw: Any, guard: socket.socket | None) -> None:
        self.raw = raw
        self.guard = guard


class ConnectionPool:
    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        size: int,
        driver_errors: tuple[type[BaseException], ...],
        retryable_errors: tuple[type[BaseException], ...],
        backend: str,
        timeouts: Timeouts | None = None,
        socket_of: Callable[[Any], int | None] = lambda connection: None,
    ) -> None:
        self._connect = connect
        self._size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Pooled] = []
        self._lock = threading.Lock()
        self._driver_errors = driver_errors
        self._retryable = retryable_errors
        self._backend = backend
        self._timeouts = timeouts or Timeouts()
        self._socket_of = socket_of
        self._watchdog = _Watchdog()
        self._pid = os.getpid()
        # Connections inherited from a parent process: never used, never closed (closing
        # would end the parent's session on the same socket), only kept from the GC.
        self._inherited: list[_Pooled] = []
        self._closed = False
        #: Times a caller found no free connection and waited, and for how long in all.
        self.waits = 0
        self.wait_seconds = 0.0
        pool = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _adopt_in_child(pool))

    def run(self, work: Callable[[Any], T]) -> T:
        """Call ``work(connection)``; on a broken reused connection, once more on a new one.

        ``work`` gets ``Timeouts.socket`` seconds; after that its connection is cut under
        it and the caller gets ``StorageError``."""
        limit = self._timeouts.socket
        for attempt in (1, 2):
            if not self._slots.acquire(blocking=False):
                self._wait_for_slot(limit)
            try:
                pooled, reused = self._checkout()
                started = time.monotonic()
                ticket = self._watchdog.watch(pooled.guard, started + limit)
                try:
                    result = work(pooled.raw)
                except self._driver_errors as exc:
                    cut = self._watchdog.release(ticket)
                    self._discard(pooled)
                    if cut or time.monotonic() - started >= limit:
                        # Asking again would only double the wait of a silent database.
                        raise StorageError(
                            f"{self._backend}: no answer from the database within {limit:g} s"
                        ) from exc
                    if attempt == 1 and reused and isinstance(exc, self._retryable):
                        continue
                    raise StorageError(f"{self._backend}: {type(exc).__name__}: {exc}") from exc
                except BaseException:
                    # Not the database's fault, but the connection may be mid-transaction.
                    self._watchdog.release(ticket)
                    self._discard(pooled)
                    raise
                if self._watchdog.release(ticket):
                    self._discard(pooled)  # answered just as it was cut
                else:
                    self._checkin(pooled)
                return result
            finally:
                self._slots.release()
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for_slot(self, limit: float) -> None:
        # Counted without a lock: a lost increment under contention only blurs a metric.
        self.waits += 1
        started = time.monotonic()
        acquired = self._slots.acquire(timeout=limit)
        self.wait_seconds += time.monotonic() - started
        if not acquired:
            raise StorageError(f"{self._backend}: no free database connection (pool exhausted)")

    def in_use(self) -> tuple[int, int]:
        """Connections in use now, and the pool's size (read without locking)."""
        free = getattr(self._slots, "_value", self._size)  # CPython's semaphore count
        return self._size - free, self._size

    def run_alone(self, work: Callable[[Any], T], connect: Callable[[], Any]) -> T:
        """Call ``work`` on a connection of its own from ``connect``, closed afterwards,
        outside the pool and its time limit (schema changes may take long)."""
        try:
            connection = connect()
        except self._driver_errors as exc:
            raise StorageError(f"{self._backend}: cannot connect: {exc}") from exc
        try:
            return work(connection)
        except self._driver_errors as exc:
            raise StorageError(f"{self._backend}: {type(exc).__name__}: {exc}") from exc
        finally:
            self._close_quietly(connection)

    def _checkout(self) -> tuple[_Pooled, bool]:
        with self._lock:
            if self._closed:
                raise StorageError(f"{self._backend}: the store is closed")
            if self._idle:
                return self._idle.pop(), True
        try:
            raw = self._connect()
        except self._driver_errors as exc:
            raise StorageError(f"{self._backend}: cannot connect: {exc}") from exc
        return _Pooled(raw, self._guard_for(raw)), False

    def _guard_for(self, raw: Any) -> socket.socket | None:
        # A duplicate of the driver's socket: cutting it interrupts a blocked call, and
        # holding it means its number cannot be reused by another socket meanwhile, even
        # if the driver closes its own copy.
        fd = self._socket_of(raw)
        if fd is None:
            return None
        try:
            return socket.socket(fileno=os.dup(fd))
        except OSError:
            return None

    def _checkin(self, pooled: _Pooled) -> None:
        with self._lock:
            if not self._closed and os.getpid() == self._pid:
                self._idle.append(pooled)
                return
        self._discard(pooled)

    def _discard(self, pooled: _Pooled) -> None:
        self._close_quietly(pooled.raw)
        if pooled.guard is not None:
            pooled.guard.close()

    def _close_quietly(self, connection: Any) -> None:
        # A broken connection may fail to close; it is gone either way.
        with contextlib.suppress(Exception):
            connection.close()

    def _start_over_after_fork(self) -> None:
        # Runs in the child, alone, right after fork(): the parent's threads are gone, so
        # its lock may be held forever and its slot count is wrong. Start from scratch.
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._size)
        self._watchdog = _Watchdog()
        self._inherited.extend(self._idle)
        self._idle = []
        self._pid = os.getpid()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        self._watchdog.stop()
        for pooled in idle:
            self._discard(pooled)


class _Watchdog:
    """Cuts the socket under an operation that outlives its deadline.

    One thread per pool, started on first use, asleep until the earliest deadline.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: dict[int, tuple[float, socket.socket]] = {}
        self._cut: set[int] = set()
        self._next_ticket = 0
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, guard: socket.socket | None, deadline: float) -> int | None:
        if guard is None:
            return None
        with self._cond:
            self._next_ticket += 1
            ticket = self._next_ticket
            self._due[ticket] = (deadline, guard)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="tessera-db-watchdog", daemon=True
                )
                self._thread.start()
            elif len(self._due) == 1:
                self._cond.notify()
        return ticket

    def release(self, ticket: int | None) -> bool:
        """Stop watching; True when the operation's connection was cut."""
        if ticket is None:
            return False
        with self._cond:
            self._due.pop(ticket, None)
            if ticket in self._cut:
                self._cut.discard(ticket)
                return True
            return False

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                for ticket, (deadline, guard) in list(self._due.items()):
                    if deadline <= now:
                        del self._due[ticket]
                        self._cut.add(ticket)
                        # Under the lock, so the owner cannot have closed the guard yet.
                        with contextlib.suppress(OSError):
                            guard.shutdown(socket.SHUT_RDWR)
                if not self._due:
                    # Idle: sleep a while, then end, so a pool dropped without close()
                    # leaves no thread behind; the next watch() starts another.
                    self._cond.wait(_IDLE_EXIT_S)
                    if not self._due:
                        self._thread = None
                        return
                    continue
                earliest = min(deadline for deadline, _ in self._due.values())
                self._cond.wait(max(earliest - now, 0.001))


def _adopt_in_child(pool: weakref.ref[ConnectionPool]) -> None:
    alive = pool()
    if alive is not None:
        alive._start_over_after_fork()
