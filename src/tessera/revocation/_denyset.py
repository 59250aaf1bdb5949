"""The deny set: handles revoked within the access-token window, and how far into the
revocation log it has read. Sans-I/O: every method takes the times it needs.

Sequence numbers are handed out when a revoking transaction writes the log, but
transactions commit in any order: number 10 can be visible while 9 is still being
written. So the reader keeps a *low-water mark* (every number at or below it is
applied or known never to come), remembers the numbers it has applied above it, and
always reads from the mark. A hole that stays open longer than ``gap_timeout`` is a
rolled-back (or skipped) number: the mark passes it, and the number is still asked for
by name for a while (``late_window``) in case it was only a very slow transaction.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ..storage.base import PAYLOAD_CHANGED, RevocationRecord

__all__ = ["DenySet", "ReadPlan"]

log = logging.getLogger("tessera.revocation")

#: When the first row ever seen is number N, numbers just below it may belong to
#: transactions still in flight: they are awaited like any hole.
_START_LOOKBACK = 128
#: Skipped numbers asked for by name at most this many at a time.
_MAX_LATE = 1000


@dataclass(frozen=True)
class ReadPlan:
    """What to ask the log for next: ``seq > after_seq`` or ``seq in also_seqs``."""

    after_seq: int
    also_seqs: tuple[int, ...]


class DenySet:
    """Revoked handles per app, each kept for ``window`` seconds after it is applied
    (at least as long as an access token issued before the revocation can live)."""

    def __init__(self, *, window: float, gap_timeout: float, late_window: float) -> None:
        self.window = window
        self.gap_timeout = gap_timeout
        self.late_window = late_window
        #: app id -> {handle: monotonic time the entry may be dropped}
        self.by_app: dict[str, dict[str, float]] = {}
        #: The same for sessions whose stored access-token payload changed.
        self.changed_by_app: dict[str, dict[str, float]] = {}
        self._expiry: deque[tuple[float, dict[str, float], str]] = deque()
        self.low_water = 0
        self._started = False
        self._above: set[int] = set()
        self._holes: dict[int, float] = {}
        self._late: dict[int, float] = {}
        self.highest_seen = 0

    def entries(self, app_id: str) -> dict[str, float]:
        """The live mapping of one app's revoked handles (created empty on demand and
        kept: a reader may hold it and see later revocations)."""
        found = self.by_app.get(app_id)
        if found is None:
            found = self.by_app.setdefault(app_id, {})
        return found

    def changed(self, app_id: str) -> dict[str, float]:
        """Like ``entries``, for sessions whose stored payload changed."""
        found = self.changed_by_app.get(app_id)
        if found is None:
            found = self.changed_by_app.setdefault(app_id, {})
        return found

    def __len__(self) -> int:
        return sum(len(handles) for handles in self.by_app.values())

    def plan(self) -> ReadPlan:
        return ReadPlan(self.low_water, tuple(sorted(self._late)[-_MAX_LATE:]))

    def apply(self, rows: Iterable[RevocationRecord], now: float) -> list[RevocationRecord]:
        """Apply rows read from the log at monotonic time ``now``; return those that
        were new (for lag accounting). Rows already applied are ignored."""
        fresh: list[RevocationRecord] = []
        for row in rows:
            seq = row.seq
            if not self._started:
                self._started = True
                self.low_water = max(0, seq - 1 - _START_LOOKBACK)
            if seq in self._above or (seq <= self.low_water and seq not in self._late):
                continue
            if self._late.pop(seq, None) is not None:
                log.warning(
                    "revocation %d committed more than %.1fs after later ones; "
                    "raise revocation_gap_timeout",
                    seq,
                    self.gap_timeout,
                )
            else:
                self._above.add(seq)
            self._holes.pop(seq, None)
            self.highest_seen = max(self.highest_seen, seq)
            if row.kind == PAYLOAD_CHANGED:
                self._remember(self.changed(row.app_id), row.session_handle, now + self.window)
                continue
            if row.session_handle not in self.entries(row.app_id):  # else revoked here
                fresh.append(row)
            self.note(row.app_id, row.session_handle, now + self.window)
        self._advance(now)
        return fresh

    def _advance(self, now: float) -> None:
        for seq in range(self.low_water + 1, self.highest_seen):
            if seq not in self._above:
                self._holes.setdefault(seq, now)
        while self.low_water < self.highest_seen:
            following = self.low_water + 1
            if following in self._above:
                self._above.discard(following)
            elif now - self._holes.get(following, now) >= self.gap_timeout:
                del self._holes[following]
                self._late[following] = now
            else:
                break
            self.low_water = following
        for seq, skipped_at in list(self._late.items()):
            if now - skipped_at > self.late_window:
                del self._late[seq]

    def note(self, app_id: str, handle: str, expires: float) -> None:
        """Deny ``handle`` until ``expires`` (also for revocations made in this process,
        before the log is read)."""
        self._remember(self.entries(app_id), handle, expires)

    def changed_here(self, app_id: str, handle: str, expires: float) -> None:
        self._remember(self.changed(app_id), handle, expires)

    def _remember(self, mapping: dict[str, float], handle: str, expires: float) -> None:
        mapping[handle] = expires
        self._expiry.append((expires, mapping, handle))

    def clear(self) -> None:
        """Forget everything (kept mappings are emptied in place)."""
        for handles in (*self.by_app.values(), *self.changed_by_app.values()):
            handles.clear()
        self._expiry.clear()
        self.low_water = self.highest_seen = 0
        self._started = False
        self._above.clear()
        self._holes.clear()
        self._late.clear()

    def expire(self, now: float) -> int:
        """Drop entries whose window has passed; return how many."""
        dropped = 0
        queue = self._expiry
        while queue and queue[0][0] <= now:
            expires, handles, handle = queue.popleft()
            # A handle applied twice (re-read after a skip) keeps its later expiry.
            if handles.get(handle) == expires:
                del handles[handle]
                dropped += 1
        return dropped

    def pending_holes(self) -> int:
        return len(self._holes)
