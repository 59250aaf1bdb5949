"""When a verification should record its session's last activity: at most once per
``activity_write_interval`` per session in this process.

Verifications are the hot path, so the question is one dictionary read: ``next_write``
maps a session handle to the time (ms) from which its next activity is worth a write.
Only when that time has come does ``ActivityMemo.take`` do more (clean the address and
agent, move the time on, make the record); the write itself is the caller's business,
off the request. The memo is bounded: past ``capacity`` sessions the oldest entries
go, which costs at most one write more for those sessions (the store's own condition,
see ``SessionStore.record_activity``, still keeps it to one per interval).
"""

from __future__ import annotations

import threading

from ..storage.base import SessionActivity
from ._base import _clean_metadata

__all__ = ["DEFAULT_CAPACITY", "ActivityMemo"]

#: Sessions remembered per process: about 10 MB at most.
DEFAULT_CAPACITY = 65_536
_MAX_IP, _MAX_USER_AGENT = 64, 512


class ActivityMemo:
    """Per process: when each session's activity was last handed over for writing."""

    def __init__(self, interval_ms: int, capacity: int = DEFAULT_CAPACITY) -> None:
        if interval_ms <= 0:
            raise ValueError("an activity memo needs a positive interval")
        self.interval_ms = interval_ms
        self.capacity = capacity
        #: session handle -> when (ms) its next activity is due a write. Insertion order
        #: is the order of recording, so the first entry is the oldest.
        self.next_write: dict[str, int] = {}
        self._lock = threading.Lock()

    def is_due(self, session_handle: str, now: int) -> bool:
        """Whether activity at ``now`` should be recorded (what ``take`` decides on)."""
        return now >= self.next_write.get(session_handle, 0)

    def take(
        self, session_handle: str, now: int, ip: str | None, user_agent: str | None
    ) -> SessionActivity | None:
        """The record to write for activity at ``now``, or ``None`` when one was taken
        less than an interval ago. Safe from many threads: of two racing callers at most
        one gets a record."""
        with self._lock:
            memo = self.next_write
            if now < memo.get(session_handle, 0):
                return None
            self._remember(session_handle, now)
        return SessionActivity(
            session_handle,
            now,
            _clean_metadata(ip[:_MAX_IP] if ip else None),
            _clean_metadata(user_agent[:_MAX_USER_AGENT] if user_agent else None),
        )

    def recorded(self, session_handle: str, now: int) -> None:
        """Activity at ``now`` was recorded some other way (creation, a refresh): the next
        verification within the interval needs no write."""
        with self._lock:
            self._remember(session_handle, now)

    def forget(self, session_handle: str) -> None:
        with self._lock:
            self.next_write.pop(session_handle, None)

    def _remember(self, session_handle: str, now: int) -> None:
        memo = self.next_write
        memo.pop(session_handle, None)  # moved to the end: the newest
        while len(memo) >= self.capacity:
            del memo[next(iter(memo))]
        memo[session_handle] = now + self.interval_ms

    def __len__(self) -> int:
        return len(self.next_write)
