"""Wake-up signals for the revocation feed, on infrastructure the user already runs.

A signal only says "the log has something new": the feed then reads the log from its
own position, so a lost, late or duplicated message costs nothing but latency. Each
signal keeps one dedicated connection, reconnects with backoff, and reports whether
it is connected. Waits are cut into short slices so that closing never waits long.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["NoSignal", "PostgresSignal", "RedisPublisher", "RedisSignal", "Signal"]

log = logging.getLogger("tessera.revocation")

#: The longest a signal blocks in one call, so ``close`` is prompt.
_SLICE = 0.2
_BACKOFF_START, _BACKOFF_MAX = 0.2, 5.0


class Signal(Protocol):
    kind: str
    connected: bool

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when woken (a message, or a fresh
        connection after which the log must be read again)."""
        ...

    def close(self) -> None: ...


class NoSignal:
    """Polling only: SQLite on one machine, or MySQL without a Redis channel."""

    kind = "none"
    connected = False

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def wait(self, timeout: float) -> bool:
        self._stop.wait(timeout)
        return False

    def close(self) -> None:
        pass


class _Reconnecting:
    """Connection bookkeeping shared by the two real signals."""

    kind = "?"

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self.connected = False
        self._retry_at = 0.0
        self._backoff = _BACKOFF_START

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.connected:
            if time.monotonic() >= self._retry_at:
                try:
                    self._open()
                except Exception as exc:
                    self._lost(exc)
                else:
                    self.connected = True
                    self._backoff = _BACKOFF_START
                    log.info("revocation signal (%s) connected", self.kind)
                    return True  # anything sent while we were away is in the log
            self._stop.wait(max(0.0, min(timeout, self._retry_at - time.monotonic())))
            return False
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                if self._receive(min(left, _SLICE)):
                    return True
            except Exception as exc:
                self._lost(exc)
                return False
        return False

    def _lost(self, exc: BaseException) -> None:
        if self.connected:
            log.warning("revocation signal (%s) lost, polling meanwhile: %s", self.kind, exc)
        self.connected = False
        self._drop()
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, _BACKOFF_MAX)

    def close(self) -> None:
        self.connected = False
        self._drop()

    def _open(self) -> None:
        raise NotImplementedError

    def _receive(self, timeout: float) -> bool:
        raise NotImplementedError

    def _drop(self) -> None:
        raise NotImplementedError


class PostgresSignal(_Reconnecting):
    """``LISTEN`` on a dedicated connection. The revoking transaction sends ``NOTIFY``,
    which PostgreSQL delivers only if and when that transaction commits."""

    kind = "postgresql"

    def __init__(self, url: str, channel: str, stop: threading.Event) -> None:
        super().__init__(stop)
        self._url = url
        self._channel = channel
        self._connection: Any = None

    def _open(self) -> None:
        import psycopg

        connection = psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=5,
            # Named per process, so an operator (or a test) can find it.
            application_name=f"tessera-revocation-feed-{os.getpid()}",
            # A silently dropped connection is noticed within about half a minute.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        try:
            connection.execute(f"LISTEN {self._channel}")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _receive(self, timeout: float) -> bool:
        connection = self._connection
        woken = False
        for _ in connection.notifies(timeout=timeout, stop_after=1):
            woken = True
        if woken:  # one read covers every notification already queued
            for _ in connection.notifies(timeout=0.0):
                pass
        elif connection.closed or connection.broken:
            raise ConnectionError("LISTEN connection closed")
        return woken

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


class RedisSignal(_Reconnecting):
    """Redis pub/sub: the revoking process publishes after its commit."""

    kind = "redis"

    def __init__(self, url: str, channel: str, stop: threading.Event) -> None:
        super().__init__(stop)
        self._url = url
        self._channel = channel
        self._client: Any = None
        self._pubsub: Any = None

    def _open(self) -> None:
        import redis

        client: Any = redis.Redis.from_url(
            self._url,
            socket_connect_timeout=5,
            socket_keepalive=True,
            health_check_interval=10,
            client_name=f"tessera-revocation-feed-{os.getpid()}",
        )
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self._channel)
            # Wait for the confirmation, so "connected" means subscribed.
            pubsub.get_message(timeout=5)
        except BaseException:
            client.close()
            raise
        self._client, self._pubsub = client, pubsub

    def _receive(self, timeout: float) -> bool:
        pubsub = self._pubsub
        if pubsub.get_message(timeout=timeout) is None:
            return False
        while pubsub.get_message(timeout=0.0) is not None:
            pass
        return True

    def _drop(self) -> None:
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        for resource in (pubsub, client):
            if resource is not None:
                with contextlib.suppress(Exception):
                    resource.close()


class RedisPublisher:
    """Publishes "the log has news" after a revocation commits. A failure is logged
    and costs only latency: the other processes' polling finds the revocation."""

    def __init__(self, url: str, channel: str, clock: Callable[[], float]) -> None:
        self._url = url
        self._channel = channel
        self._clock = clock
        self._client: Any = None
        self._quiet_until = 0.0
        self._lock = threading.Lock()

    def publish(self) -> None:
        if self._clock() < self._quiet_until:
            return
        try:
            client = self._client
            if client is None:
                import redis

                with self._lock:
                    if self._client is None:
                        self._client = redis.Redis.from_url(
                            self._url, socket_connect_timeout=0.5, socket_timeout=0.5
                        )
                    client = self._client
            client.publish(self._channel, b"")
        except Exception as exc:
            # Do not slow every revocation while Redis is away.
            self._quiet_until = self._clock() + _BACKOFF_MAX
            log.warning("revocation publish to Redis failed (polling covers it): %s", exc)

    def forget_connection(self) -> Any:
        """In a forked child: the parent's socket is not ours to use or close. Returns
        the parent's client, for the caller to keep from the garbage collector."""
        client, self._client = self._client, None
        self._lock = threading.Lock()
        return client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
