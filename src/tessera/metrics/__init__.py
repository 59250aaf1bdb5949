"""Prometheus metrics for tessera (the ``metrics`` extra: ``pip install tessera[metrics]``).

Without ``prometheus_client`` installed everything works and metrics are off:
``recorder()`` is ``None`` and the endpoints answer 404. With it, every ``Tessera``
object (and the core) counts into the process's default registry, so an application
that already exposes ``prometheus_client.REGISTRY`` shows tessera's series too. Or
mount one of the endpoints here::

    app.mount("/metrics", tessera.metrics.asgi_app())          # FastAPI, Starlette
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app,           # Flask
                                        {"/metrics": tessera.metrics.wsgi_app()})

Under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, as the core
uses with several workers) the endpoints add up every process's counters. The series
are listed in ``docs/operations.md``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._collectors import Source
    from ._recorder import Recorder

__all__ = [
    "VERIFY_MASK",
    "VERIFY_SAMPLE",
    "asgi_app",
    "available",
    "exposition",
    "observe_process",
    "recorder",
    "register",
    "unregister",
    "wsgi_app",
]

#: One access-token verification in this many is timed by the facades (a power of two):
#: timing costs about 1 µs, a third of verifying a token seen before. The core, whose
#: verify is an HTTP request, times every one.
VERIFY_SAMPLE = 1024
VERIFY_MASK = VERIFY_SAMPLE - 1

_lock = threading.Lock()
_recorder: Recorder | None = None
_process: Any = None


def available() -> bool:
    """Whether ``prometheus_client`` is installed (then metrics are on)."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


def recorder() -> Recorder | None:
    """The process's metrics, made on first use; ``None`` without prometheus_client."""
    global _recorder, _process
    if _recorder is not None or not available():
        return _recorder
    with _lock:
        if _recorder is None:
            from prometheus_client.registry import REGISTRY

            from ._collectors import ProcessCollector
            from ._recorder import Recorder

            _process = ProcessCollector()
            REGISTRY.register(_process)
            _recorder = Recorder()
    return _recorder


def register(owner: object, source: Source) -> None:
    """Publish ``source`` (feed, pool, live sessions) while ``owner`` lives."""
    if recorder() is not None:
        _process.add(owner, source)


def unregister(owner: object) -> None:
    if _process is not None:
        _process.remove(owner)


def exposition() -> tuple[int, bytes, str]:
    """The status, body and content type of a scrape (404 when metrics are off)."""
    if recorder() is None:
        return 404, b"metrics are off: install tessera[metrics]\n", "text/plain; charset=utf-8"
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from prometheus_client.registry import REGISTRY

    registry: Any = REGISTRY
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client.multiprocess import MultiProcessCollector

        # Counters and histograms of every worker from their files; the feed, pool and
        # live-sessions series of the worker answering (each has its own pool and feed).
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        registry.register(_process)
    return 200, generate_latest(registry), CONTENT_TYPE_LATEST


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI application answering every GET with the metrics of this process."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        status, body, content_type = exposition()
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            status, body, content_type = 405, b"", "text/plain"
        headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_app() -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI application answering every GET with the metrics of this process."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, body, content_type = exposition()
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            status, body, content_type = 405, b"", "text/plain"
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[status]
        start_response(
            f"{status} {reason}",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def observe_process(owner: Any, clock: Callable[[], int]) -> None:
    """Publish the feed, pool and live-sessions series of ``owner`` (a ``Tessera`` or
    the core's app: anything with ``store`` and ``revocations``); ``clock`` gives the
    time (ms) that decides which sessions are live."""
    if recorder() is None:
        return
    from ._collectors import LIVE_SESSIONS_MAX_AGE, LiveSessions, Source

    store = owner.store
    count = getattr(store, "count_live_sessions", None)
    live = (
        None
        if count is None
        else LiveSessions(
            count,
            clock,
            LIVE_SESSIONS_MAX_AGE,
            (getattr(store, "dialect", None).__class__.__name__, getattr(store, "_sessions", "")),
        )
    )
    register(
        owner,
        Source(feed=owner.revocations.stats, pool=getattr(store, "_pool", None), live=live),
    )
