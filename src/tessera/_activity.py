"""Recording last activity without making a request wait: a memo says when a session
is due (``engine.activity.ActivityMemo``), and a background thread writes what is due
in batches (``ActivityWriter``).

A verification that finds its session due hands a record to the writer's queue and
goes on; the thread takes everything queued so far and records it with one
``store.record_activity`` call (one transaction). A database failure loses that batch
with a warning: last activity is shown to people, it decides nothing. The queue is
bounded, so a database that stays away cannot make it grow without limit; what does
not fit is dropped and counted.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .engine.activity import ActivityMemo
from .storage.base import SessionActivity

__all__ = ["ActivityRecorder", "ActivityStats", "ActivityWriter"]

log = logging.getLogger("tessera")

#: Records waiting for the writer at most; more are dropped.
MAX_PENDING = 10_000
#: Records written in one transaction at most.
MAX_BATCH = 500
#: Seconds between two warnings about failed writes.
_WARN_EVERY = 60.0


@dataclass(frozen=True)
class ActivityStats:
    """What the writer did in this process: records handed to the store, sessions it
    changed (the others had activity recorded within the interval already, by another
    process or a refresh), batches, records dropped (queue full or database down)."""

    submitted: int
    changed: int
    batches: int
    dropped: int


Write = Callable[[Sequence[SessionActivity]], int]


class ActivityWriter:
    """A daemon thread that hands queued activity records to a ``write`` in batches:
    ``write(records)`` is an app's ``store.record_activity`` with its interval bound in.
    One writer may serve many apps (the core's), each record going to its own."""

    def __init__(self, write: Write | None = None) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[tuple[Write, SessionActivity] | threading.Event | None] = (
            queue.SimpleQueue()
        )
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._submitted = self._changed = self._batches = self._dropped = 0
        self._warned_at = -_WARN_EVERY

    def submit(self, record: SessionActivity, write: Write | None = None) -> None:
        """Queue ``record`` for ``write`` (by default the writer's own); never blocks,
        never raises."""
        write = write or self._write
        if write is None:
            raise TypeError("this writer has no default write: pass one")
        if self._pid != os.getpid():
            self._start()
        if self._closed or self._queue.qsize() >= MAX_PENDING:
            self._dropped += 1
            return
        self._queue.put((write, record))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued before this call is written (or dropped);
        False if that took longer than ``timeout`` seconds."""
        if self._thread is None or self._pid != os.getpid() or self._closed:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def stats(self) -> ActivityStats:
        return ActivityStats(self._submitted, self._changed, self._batches, self._dropped)

    def close(self) -> None:
        """Write what is queued (briefly), then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None and self._pid == os.getpid():
            self._queue.put(None)
            thread.join(timeout=5)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() or self._closed:
                return
            # In a forked child the parent's queue and thread are not ours.
            self._queue = queue.SimpleQueue()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="tessera-activity", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        pending = self._queue
        while True:
            item = pending.get()
            batches: dict[Write, dict[str, SessionActivity]] = {}
            size = 0
            waiting: list[threading.Event] = []
            stop = False
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    write, record = item
                    # The latest record of one session wins.
                    batches.setdefault(write, {})[record.session_handle] = record
                    size += 1
                if stop or size >= MAX_BATCH:
                    break
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    break
            for write, batch in batches.items():
                self._write_batch(write, list(batch.values()))
            for event in waiting:
                event.set()
            if stop:
                return

    def _write_batch(self, write: Write, batch: list[SessionActivity]) -> None:
        try:
            changed = write(batch)
        except Exception as exc:  # a StorageError, or a store closed under the thread
            # Never let the thread die: activity is a hint, the next batch may work.
            self._dropped += len(batch)
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY:
                self._warned_at = now
                log.warning("could not record session activity (will try later ones): %s", exc)
            return
        self._submitted += len(batch)
        self._changed += changed
        self._batches += 1


class ActivityRecorder:
    """The memo and the writer of one ``Tessera`` object (or one core app)."""

    def __init__(
        self, interval_ms: int, write: Callable[[Sequence[SessionActivity], int], int]
    ) -> None:
        self.memo = ActivityMemo(interval_ms)
        self.writer = ActivityWriter(lambda records: write(records, interval_ms))
        #: The memo's dictionary, read by every verification (see the facades).
        self.next_write = self.memo.next_write

    def seen(self, session_handle: str, now: int, ip: str | None, user_agent: str | None) -> None:
        """A verification saw the session in use at ``now``: queue a record if due."""
        if now < self.next_write.get(session_handle, 0):
            return  # the usual answer, without the memo's lock
        record = self.memo.take(session_handle, now, ip, user_agent)
        if record is not None:
            self.writer.submit(record)

    def recorded(self, session_handle: str, now: int) -> None:
        """Creation or a refresh recorded the activity already."""
        self.memo.recorded(session_handle, now)

    def close(self) -> None:
        self.writer.close()
