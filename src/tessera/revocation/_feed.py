"""The revocation feed of one process: a thread that keeps the deny set current.

It reads the revocation log by sequence number at least every ``poll_interval`` (so
the staleness bound holds even if every signal is lost) and sooner when a signal
wakes it. After each complete read it records when that read *started*: every
revocation committed before then is in the deny set. A verification trusts the deny
set only while that moment is at most ``max_staleness`` old; otherwise it reads the
database, as it would without the feed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from ..config import SessionConfig
from ..storage.base import SessionStore
from ._denyset import DenySet
from ._signals import NoSignal, PostgresSignal, RedisPublisher, RedisSignal, Signal
from ._stats import FeedState, FeedStats, LagHistogram

__all__ = ["REVOCATION_MARGIN_S", "RevocationFeed", "RevocationView"]

log = logging.getLogger("tessera.revocation")

#: Seconds a revocation is remembered beyond the longest access-token lifetime: covers
#: clock differences between the machines that sign tokens and the database.
REVOCATION_MARGIN_S = 60.0
#: Log rows fetched per query; a catch-up reads page after page.
PAGE = 5000
#: Seconds between deny-set expiry sweeps, and between purges of old log rows.
_SWEEP_EVERY, _PURGE_EVERY = 5.0, 60.0
_NEVER = float("-inf")


def _wall_ms() -> float:
    return time.time() * 1000


class RevocationView:
    """One app's side of the feed: what the engine asks on every verification."""

    __slots__ = ("_changed", "_feed", "_handles", "app_id")

    def __init__(self, feed: RevocationFeed, app_id: str) -> None:
        self._feed = feed
        self.app_id = app_id
        self._handles = feed._deny.entries(app_id)
        self._changed = feed._deny.changed(app_id)

    def is_revoked(self, session_handle: str) -> bool | None:
        """True or False when the deny set can be trusted now; ``None`` when it cannot
        (the caller reads the database, and the feed is started if it was not)."""
        if session_handle in self._handles:
            return True  # a revocation is final: no need for freshness
        feed = self._feed
        if feed._clock() <= feed._trusted_until:
            return False
        feed._untrusted()
        return None

    def payload_changed(self, session_handle: str) -> bool | None:
        """Whether the session's stored access-token payload changed within the window
        (``None`` when the feed cannot be trusted now)."""
        if session_handle in self._changed:
            return True
        return False if self._feed.trusted() else None


class RevocationFeed:
    """Build one per store and process-group; ``view(app_id)`` for each engine.

    Nothing runs until ``ensure_running()`` (called on the first verification that
    needs it); a forked child starts its own thread from an empty deny set.
    """

    @classmethod
    def for_config(cls, store: SessionStore, config: SessionConfig) -> RevocationFeed:
        """The feed ``config``'s revocation settings describe, remembering revocations
        as long as its access tokens can live."""
        return cls(
            store,
            max_staleness=config.revocation_max_staleness,
            poll_interval=config.revocation_poll_seconds,
            gap_timeout=config.revocation_gap_timeout,
            window=config.access_token_validity + REVOCATION_MARGIN_S,
            channel=config.revocation_channel,
        )

    def __init__(
        self,
        store: SessionStore,
        *,
        max_staleness: float,
        poll_interval: float,
        gap_timeout: float,
        window: float,
        channel: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ms: Callable[[], float] = _wall_ms,
    ) -> None:
        self._store = store
        self._max_staleness = max_staleness
        self._poll_interval = poll_interval
        self._channel = channel
        self._clock = clock
        self._wall_ms = wall_clock_ms
        self._channel_name: str = getattr(store, "revocation_channel", "tessera_revocations")
        self._deny = DenySet(
            window=window, gap_timeout=gap_timeout, late_window=max(60.0, 10 * gap_timeout)
        )
        self._trusted_until = _NEVER
        self._lag = LagHistogram()
        self._publisher = (
            RedisPublisher(channel, self._channel_name, clock) if channel is not None else None
        )
        self._closed = False
        # A parent's connections, inherited across fork(): never used, never closed
        # (that would end the parent's session), only kept from the garbage collector.
        self._inherited: list[Any] = []
        self._reset_process_state()
        feed = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _start_over_in_child(feed))

    def _reset_process_state(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._signal: Signal | None = None
        self._last_read_started: float | None = None
        self._failing = False
        self._loaded = False
        self.reads = self.read_failures = self.database_fallbacks = 0

    # -- for engines -------------------------------------------------------------

    def view(self, app_id: str) -> RevocationView:
        return RevocationView(self, app_id)

    def trusted(self) -> bool:
        return self._clock() <= self._trusted_until

    def _untrusted(self) -> None:
        self.database_fallbacks += 1
        self.ensure_running()

    def note_revoked(self, app_id: str, handles: Sequence[str]) -> None:
        """This process just revoked these: refuse them here at once, and wake the
        other processes if a Redis channel is configured."""
        if not handles:
            return
        if self._pid == os.getpid():  # entries expire only where the thread runs
            expires = self._clock() + self._deny.window
            for handle in handles:
                self._deny.note(app_id, handle, expires)
        if self._publisher is not None:
            self._publisher.publish()

    def note_payload_changed(self, app_id: str, handle: str) -> None:
        """This process just changed a session's stored payload (see ``note_revoked``)."""
        if self._pid == os.getpid():
            self._deny.changed_here(app_id, handle, self._clock() + self._deny.window)
        if self._publisher is not None:
            self._publisher.publish()

    # -- life cycle ----------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start this process's feed thread, once; a no-op after ``close()``."""
        if self._pid == os.getpid() or self._closed:
            return
        with self._lock:
            if self._pid == os.getpid() or self._closed:
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="tessera-revocations", daemon=True
            )
            self._thread.start()

    def wait_until_healthy(self, timeout: float) -> bool:
        """Start the feed if needed and wait (up to ``timeout`` s) for the deny set to
        be loaded; True when it is trusted. For start-up and tests."""
        self.ensure_running()
        deadline = time.monotonic() + timeout
        while not self.trusted():
            if time.monotonic() >= deadline or self._closed:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Stop the thread, close the signal connection. Idempotent."""
        self._closed = True
        self._trusted_until = _NEVER
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=10)
        if self._publisher is not None:
            self._publisher.close()

    def _start_over_after_fork(self) -> None:
        # The parent's thread is gone and may have been mid-update: start from nothing.
        self._inherited.append(self._signal)
        self._reset_process_state()
        self._trusted_until = _NEVER
        self._deny.clear()
        if self._publisher is not None:
            self._inherited.append(self._publisher.forget_connection())

    # -- the thread ------------------------------------------------------------------

    def _make_signal(self) -> Signal:
        if self._channel is not None:
            return RedisSignal(self._channel, self._channel_name, self._stop)
        dialect: Any = getattr(self._store, "dialect", None)
        if dialect is not None and getattr(dialect, "name", "") == "postgresql":
            return PostgresSignal(dialect.connect, self._channel_name, self._stop)
        return NoSignal(self._stop)

    def _run(self) -> None:
        signal = self._signal = self._make_signal()
        next_sweep = next_purge = 0.0
        try:
            while not self._stop.is_set():
                started = self._clock()
                self._read_log(started)
                now = self._clock()
                if now >= next_sweep:
                    self._deny.expire(now)
                    next_sweep = now + _SWEEP_EVERY
                if now >= next_purge:
                    self._purge_log()
                    next_purge = now + _PURGE_EVERY
                signal.wait(max(0.0, started + self._poll_interval - self._clock()))
        except BaseException:  # pragma: no cover - a bug; verification falls back
            log.exception("revocation feed stopped by an unexpected error")
            raise
        finally:
            self._trusted_until = _NEVER
            signal.close()

    def _read_log(self, started: float) -> None:
        plan = self._deny.plan()
        after, also = plan.after_seq, plan.also_seqs
        live = self._loaded  # rows of the first load are history, not lag
        try:
            while True:
                rows = self._store.read_revocations(after, also, PAGE)
                self.reads += 1
                fresh = self._deny.apply(rows, self._clock())
                if live and fresh:
                    wall = self._wall_ms()
                    for row in fresh:
                        self._lag.observe(wall - row.revoked_at)
                if len(rows) < PAGE or self._stop.is_set():
                    break
                after, also = rows[-1].seq, ()
        except Exception as exc:
            self.read_failures += 1
            if not self._failing:
                log.warning("revocation log unreadable, verifying against the database: %s", exc)
            self._failing = True
            return
        if self._failing:
            log.info("revocation log readable again; caught up to %d", self._deny.low_water)
        self._failing = False
        self._loaded = True
        self._last_read_started = started
        self._trusted_until = started + self._max_staleness

    def _purge_log(self) -> None:
        try:
            self._store.purge_revocations(int(self._deny.window * 1000))
        except Exception as exc:
            log.warning("revocation log purge failed, will retry: %s", exc)

    # -- for operators -----------------------------------------------------------------

    def set_window(self, seconds: float) -> None:
        """Keep entries (and log rows) at least ``seconds``: the longest access-token
        lifetime in use plus a margin. Only ever grows."""
        self._deny.window = max(self._deny.window, seconds)

    def stats(self) -> FeedStats:
        running = self._pid == os.getpid() and self._thread is not None and not self._closed
        state: FeedState
        if not running:
            state = "stopped"
        elif self.trusted():
            state = "healthy"
        elif self._failing:
            state = "fallback"
        else:
            state = "catching_up"
        signal = self._signal if running else None
        buckets, count, total = self._lag.snapshot()
        last = self._last_read_started
        return FeedStats(
            state=state,
            signal=signal.kind if signal is not None else "none",
            signal_connected=bool(signal is not None and signal.connected),
            last_sequence=self._deny.low_water,
            highest_sequence=self._deny.highest_seen,
            deny_set_size=len(self._deny),
            seconds_since_last_read=None if last is None else self._clock() - last,
            max_staleness=self._max_staleness,
            reads=self.reads,
            read_failures=self.read_failures,
            database_fallbacks=self.database_fallbacks,
            lag_buckets=buckets,
            lag_count=count,
            lag_sum_ms=total,
        )


def _start_over_in_child(feed: weakref.ref[RevocationFeed]) -> None:
    alive = feed()
    if alive is not None:
        alive._start_over_after_fork()
