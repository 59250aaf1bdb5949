"""Series read at scrape time from what the process already keeps: the revocation feed's
stats, the connection pools, and a cached count of live sessions.

Each application object (a ``Tessera``, the core's app) registers itself as a
``Source``; the collectors add up every live source in the process, so two objects on
one database never give two series of the same name and labels.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..errors import StorageError
from ..revocation import FeedStats

__all__ = ["LIVE_SESSIONS_MAX_AGE", "LiveSessions", "ProcessCollector", "Source"]

#: The live-sessions count is read from the database at most this often (seconds).
LIVE_SESSIONS_MAX_AGE = 30.0
_FEED_STATES = ("stopped", "catching_up", "healthy", "fallback")


class LiveSessions:
    """Unexpired sessions by (app, tenant), counted by the database at most every
    ``max_age`` seconds and cached in between; the last count is kept when one fails."""

    def __init__(
        self,
        count: Callable[[int], dict[tuple[str, str], int]],
        clock: Callable[[], int],
        max_age: float,
        table: object = None,
    ) -> None:
        #: What names the counted table (backend, table name): equal ones are one count.
        self.table = table if table is not None else object()
        self._count = count
        self._clock = clock
        self._max_age = max_age
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._last: dict[tuple[str, str], int] = {}

    def get(self) -> dict[tuple[str, str], int]:
        with self._lock:
            if time.monotonic() - self._at >= self._max_age:
                self._at = time.monotonic()  # a failing database is asked again later
                with contextlib.suppress(StorageError):
                    self._last = self._count(self._clock())
            return self._last


@dataclass(eq=False)
class Source:
    feed: Callable[[], FeedStats] | None = None
    pool: Any = None  # a ConnectionPool: in_use(), waits, wait_seconds
    live: LiveSessions | None = None


class ProcessCollector(Collector):
    def __init__(self) -> None:
        self._sources: weakref.WeakKeyDictionary[object, Source] = weakref.WeakKeyDictionary()

    def add(self, owner: object, source: Source) -> None:
        self._sources[owner] = source

    def remove(self, owner: object) -> None:
        self._sources.pop(owner, None)

    def collect(self) -> Iterator[Metric]:
        sources = list(self._sources.values())
        yield from _pool_series(sources)
        yield from _feed_series(sources)
        yield from _live_series(sources)


def _pool_series(sources: list[Source]) -> Iterator[Metric]:
    pools = list({id(s.pool): s.pool for s in sources if s.pool is not None}.values())
    in_use = GaugeMetricFamily("tessera_db_pool_in_use", "Database connections in use now.")
    size = GaugeMetricFamily("tessera_db_pool_size", "Database connections the pools may open.")
    waits = CounterMetricFamily(
        "tessera_db_pool_waits", "Times a caller found no free connection and waited."
    )
    waited = CounterMetricFamily(
        "tessera_db_pool_wait_seconds", "Time spent waiting for a free connection."
    )
    counts = [pool.in_use() for pool in pools]
    in_use.add_metric([], sum(c[0] for c in counts))
    size.add_metric([], sum(c[1] for c in counts))
    waits.add_metric([], sum(pool.waits for pool in pools))
    waited.add_metric([], sum(pool.wait_seconds for pool in pools))
    yield from (in_use, size, waits, waited)


def _feed_series(sources: list[Source]) -> Iterator[Metric]:
    stats = [s.feed() for s in sources if s.feed is not None]
    state = GaugeMetricFamily(
        "tessera_revocation_feed_state",
        "Revocation feeds in each state (1 for the one feed of a process).",
        labels=["state"],
    )
    for name in _FEED_STATES:
        state.add_metric([name], sum(1 for s in stats if s.state == name))
    deny = GaugeMetricFamily("tessera_revocation_deny_set_size", "Sessions in the deny set.")
    deny.add_metric([], sum(s.deny_set_size for s in stats))
    reads = CounterMetricFamily(
        "tessera_revocation_feed_reads",
        "Reads of the revocation log, by result.",
        labels=["result"],
    )
    reads.add_metric(["ok"], sum(s.reads - s.read_failures for s in stats))
    reads.add_metric(["failed"], sum(s.read_failures for s in stats))
    lag = HistogramMetricFamily(
        "tessera_revocation_feed_lag_seconds",
        "From the revoking statement to this process applying it.",
    )
    buckets: dict[float, int] = {}
    for s in stats:
        for bound, count in s.lag_buckets:
            buckets[bound] = buckets.get(bound, 0) + count
    lag.add_metric(
        [],
        [(_le(bound), count) for bound, count in sorted(buckets.items())] or [("+Inf", 0)],
        sum_value=sum(s.lag_sum_ms for s in stats) / 1000,
    )
    yield from (state, deny, reads, lag)


def _le(bound_ms: float) -> str:
    return "+Inf" if bound_ms == float("inf") else repr(bound_ms / 1000)


def _live_series(sources: list[Source]) -> Iterator[Metric]:
    live = GaugeMetricFamily(
        "tessera_live_sessions",
        f"Unexpired sessions by app and tenant (counted at most every "
        f"{LIVE_SESSIONS_MAX_AGE:g} s).",
        labels=["app", "tenant"],
    )
    # Sources on the same tables count the same rows: each table is counted once, and
    # different tables (databases, prefixes) add up.
    tables = {s.live.table: s.live for s in sources if s.live is not None}
    seen: dict[tuple[str, str], int] = {}
    for counter in tables.values():
        for key, count in counter.get().items():
            seen[key] = seen.get(key, 0) + count
    for (app, tenant), count in sorted(seen.items()):
        live.add_metric([app, tenant], count)
    yield live
