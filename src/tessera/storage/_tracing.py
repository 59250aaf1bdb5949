"""OpenTelemetry spans around storage calls, when ``opentelemetry-api`` is installed.

Without it (or without an SDK configured by the application, when the API's tracer is a
no-op) ``span`` costs one attribute test. Spans cover database work only, never the
in-memory verification of a cached token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

__all__ = ["span"]

try:
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - depends on what is installed
    _tracer: Any = None
else:
    _tracer = _trace.get_tracer("tessera.storage")


@contextlib.contextmanager
def _no_span() -> Iterator[None]:
    yield


def span(backend: str) -> contextlib.AbstractContextManager[Any]:
    """A span named ``tessera.storage`` for one call on a ``backend`` connection."""
    if _tracer is None:
        return _no_span()
    started: contextlib.AbstractContextManager[Any] = _tracer.start_as_current_span(
        "tessera.storage", attributes={"db.system": backend}
    )
    return started
