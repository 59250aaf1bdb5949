"""The worker threads of a process, where blocking store work runs for async callers.

One pool serves the whole process: the ``asyncio`` functions of every ``Tessera``
object and the request handlers of the core. Each of them takes a ``WorkerThreads``
share sized to its ``database_pool_size``, since a thread beyond its database
connections could only wait for one. The pool may run as many threads as the open
shares together (it starts them only when work waits, and grows when a share is
added); it stops when the last share closes.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["WorkerThreads"]

T = TypeVar("T")


class _ProcessPool:
    """The one executor of this process, sized to the shares open."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._size = 0  # threads the executor may run
        self._reserved = 0  # threads the open shares asked for

    def reserve(self, threads: int) -> None:
        with self._lock:
            self._reserved += threads
            retired = None
            if self._executor is not None and self._reserved > self._size:
                # Too small now: work already given to it finishes there, new work goes
                # to a larger executor, and its threads end once idle.
                retired, self._executor = self._executor, None
        if retired is not None:
            retired.shutdown(wait=False)

    def release(self, threads: int, *, join: bool) -> None:
        with self._lock:
            self._reserved -= threads
            stopped = None
            if self._reserved == 0:
                stopped, self._executor = self._executor, None
        if stopped is not None:
            stopped.shutdown(wait=join)

    def submit(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        with self._lock:
            if self._executor is None:
                self._size = max(self._reserved, 1)
                self._executor = ThreadPoolExecutor(self._size, thread_name_prefix="tessera")
            return self._executor.submit(work, *args, **kwargs)


_POOL = _ProcessPool()


class WorkerThreads:
    """One owner's share of the process's worker threads (see the module docstring).

    ``close()`` waits for the work this share started, then gives its threads back;
    after it, ``run`` raises ``RuntimeError``. A share dropped without ``close()`` gives
    its threads back when it is garbage-collected.
    """

    def __init__(self, threads: int) -> None:
        _POOL.reserve(threads)
        self._threads = threads
        self._give_back = weakref.finalize(self, _POOL.release, threads, join=False)
        self._lock = threading.Lock()
        self._running: set[Future[Any]] = set()
        self._closed = False

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``work(*args, **kwargs)`` on a worker thread, awaited off the event loop."""
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot run work on worker threads after close()")
            future = _POOL.submit(work, *args, **kwargs)
            self._running.add(future)
        future.add_done_callback(self._finished)
        return await asyncio.wrap_future(future)

    def _finished(self, future: Future[Any]) -> None:
        with self._lock:
            self._running.discard(future)

    def close(self) -> None:
        """Wait for this share's work to end, then give its threads back."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        wait(running)
        if self._give_back.detach() is not None:  # only the first close gives back
            _POOL.release(self._threads, join=True)
