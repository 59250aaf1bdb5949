"""The counters and histograms of one process, bound once so the hot path looks nothing up.

Verification is the hot path (about 3 µs for a token seen before), so it costs one
``next()`` on an ``itertools.count`` (atomic under the GIL, no lock): the family
``tessera_session_verifies_total`` is read from that count by a collector. Failures are
counted on pre-bound children (a failure is slow anyway), and the facades time one
verification in ``VERIFY_SAMPLE`` into the latency histogram (the core times each).

In prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, as the core
does with several workers) a collector cannot add up other processes, so the count is
kept by an ordinary ``Counter`` instead, at a lock per call; the core's verify is an HTTP
request, for which that is noise.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from ..errors import StorageError, TokenTheftError, TryRefreshTokenError

__all__ = ["Recorder", "failure_of"]

T = TypeVar("T")

SECONDS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25, 0.5, 1.0, 2.5)  # fmt: skip
OPERATIONS = ("create", "verify", "refresh", "revoke")
#: (outcome, reason) of a failed verify or refresh: a fixed set, so cardinality is bounded.
FAILURES = (
    ("try_refresh", "expired"),
    ("try_refresh", "anti_csrf"),
    ("try_refresh", "other"),
    ("unauthorised", "invalid"),
    ("unauthorised", "unknown_key"),
    ("unauthorised", "no_session"),
    ("unauthorised", "anti_csrf"),
    ("unauthorised", "other"),
    ("theft", "refresh_token_reused"),
    ("error", "storage"),
)
REVOCATION_REASONS = ("sign_out", "app", "operator", "theft", "tenant_removed", "app_removed",
                      "replaced_by_login", "expired")  # fmt: skip


def failure_of(exc: BaseException) -> tuple[str, str]:
    """The (outcome, reason) labels of a failed verify or refresh, from a fixed set."""
    if isinstance(exc, TokenTheftError):
        return "theft", "refresh_token_reused"
    if isinstance(exc, StorageError):
        return "error", "storage"
    text = str(getattr(exc, "reason", "")).lower()
    outcome = "try_refresh" if isinstance(exc, TryRefreshTokenError) else "unauthorised"
    if "anti-csrf" in text or "anti_csrf" in text:
        return outcome, "anti_csrf"
    if outcome == "try_refresh":
        return outcome, "expired" if "expired" in text else "other"
    if "revoked" in text or "database" in text or "no live session" in text:
        return outcome, "no_session"
    if "key" in text:
        return outcome, "unknown_key"
    if any(w in text for w in ("malformed", "signature", "algorithm", "version")):
        return outcome, "invalid"
    return outcome, "other"


class _CountedCalls:
    """Stands in for ``itertools.count`` in multiprocess mode: counts on a Counter."""

    def __init__(self, counter: Any) -> None:
        self._counter = counter
        self._local = itertools.count(1)

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        self._counter.inc()
        return next(self._local)


class _VerifyCount(Collector):
    def __init__(self, calls: Any) -> None:
        self._calls = calls

    def collect(self) -> Iterator[CounterMetricFamily]:
        # ``count(n)`` is the next value; it was started at 1, so n - 1 calls were made.
        done = int(repr(self._calls)[6:-1]) - 1
        family = CounterMetricFamily(
            "tessera_session_verifies", "Access-token verifications attempted (any outcome)."
        )
        family.add_metric([], done)
        yield family


class Recorder:
    """The process's metrics, created once (``tessera.metrics.recorder()``)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        seconds = Histogram(
            "tessera_operation_seconds",
            "Latency of session operations (verify in an app object: one call in 1024).",
            ["operation"],
            buckets=SECONDS_BUCKETS,
        )
        self.seconds = {op: seconds.labels(op) for op in OPERATIONS}
        creates = Counter("tessera_session_creates", "Sessions created, by outcome.", ["outcome"])
        self.create_ok = creates.labels("ok")
        self.create_error = creates.labels("error")
        failures = Counter(
            "tessera_session_verify_failures",
            "Access-token verifications that failed, by outcome and reason.",
            ["outcome", "reason"],
        )
        self.verify_failures = {key: failures.labels(*key) for key in FAILURES}
        refreshes = Counter(
            "tessera_session_refreshes", "Refreshes, by outcome and reason.", ["outcome", "reason"]
        )
        self.refresh_ok = refreshes.labels("ok", "")
        self.refresh_failures = {key: refreshes.labels(*key) for key in FAILURES}
        revoked = Counter("tessera_sessions_revoked", "Sessions ended, by reason.", ["reason"])
        self.revoked = {reason: revoked.labels(reason) for reason in REVOCATION_REASONS}
        keys = Counter("tessera_signing_keys_created", "Signing keys created, by kind.", ["kind"])
        self.keys_created = {kind: keys.labels(kind) for kind in ("dynamic", "static")}
        if self.multiprocess:
            attempts = Counter(
                "tessera_session_verifies", "Access-token verifications attempted (any outcome)."
            )
            self.verify_calls: Any = _CountedCalls(attempts)
        else:
            self.verify_calls = itertools.count(1)
            REGISTRY.register(_VerifyCount(self.verify_calls))

    # Each is called once per event, never per verification.

    def verify_failed(self, exc: BaseException) -> None:
        self.verify_failures[failure_of(exc)].inc()

    def refresh_failed(self, exc: BaseException) -> None:
        self.refresh_failures[failure_of(exc)].inc()

    def sessions_revoked(self, count: int, reason: str) -> None:
        if count:
            self.revoked[reason].inc(count)

    def key_created(self, dynamic: bool) -> None:
        self.keys_created["dynamic" if dynamic else "static"].inc()

    def timed(self, operation: str, started: float) -> None:
        self.seconds[operation].observe(time.perf_counter() - started)

    def timing(self, verify: Callable[..., T]) -> Callable[..., T]:
        """``verify``, timed into the ``verify`` latency (for the sampled calls)."""

        def timed_verify(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return verify(*args, **kwargs)
            finally:
                self.timed("verify", started)

        return timed_verify
