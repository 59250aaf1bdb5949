"""What an operator can read about a process's revocation feed.

``FeedStats`` is a plain snapshot. The lag histogram has cumulative buckets in
milliseconds with a count and a sum, the shape a Prometheus histogram exposes, so a
collector can publish it as it stands.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["LAG_BUCKETS_MS", "FeedState", "FeedStats", "LagHistogram"]

#: Upper bounds (ms) of the propagation-lag buckets; a last ``+Inf`` bucket is implied.
LAG_BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

FeedState = Literal["stopped", "catching_up", "healthy", "fallback"]


@dataclass(frozen=True, kw_only=True)
class FeedStats:
    """A snapshot of one process's revocation feed.

    ``state``: ``healthy`` (the deny set answers verifications), ``catching_up``
    (loading or reading a backlog; the database answers meanwhile), ``fallback`` (the
    log cannot be read; the database answers), ``stopped`` (not started in this
    process). ``lag_buckets`` pairs each bound of ``LAG_BUCKETS_MS`` (then
    ``float("inf")``) with how many revocations arrived within it, counted from the
    revoking statement to the moment this process applied it.
    """

    state: FeedState
    signal: str
    signal_connected: bool
    last_sequence: int
    highest_sequence: int
    deny_set_size: int
    seconds_since_last_read: float | None
    max_staleness: float
    reads: int
    read_failures: int
    database_fallbacks: int
    lag_buckets: tuple[tuple[float, int], ...]
    lag_count: int
    lag_sum_ms: float


class LagHistogram:
    def __init__(self) -> None:
        self._counts = [0] * (len(LAG_BUCKETS_MS) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, lag_ms: float) -> None:
        lag_ms = max(0.0, lag_ms)
        index = next((i for i, b in enumerate(LAG_BUCKETS_MS) if lag_ms <= b), -1)
        with self._lock:
            self._counts[index] += 1
            self._sum += lag_ms

    def snapshot(self) -> tuple[tuple[tuple[float, int], ...], int, float]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, count in zip((*map(float, LAG_BUCKETS_MS), float("inf")), counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return tuple(cumulative), running, total
