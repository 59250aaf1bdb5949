"""OpenTelemetry spans around storage calls, when ``opentelemetry-api`` is installed.

Each call of the store interface on a SQL store (``load_session``,
``rotate_refresh_token``, ...) runs in one span named ``tessera.storage.<call>``, of kind
CLIENT, with three attributes: the database system (``db.system``, and
``db.system.name`` of the newer semantic conventions: ``sqlite``, ``postgresql`` or
``mysql``) and the call (``db.operation.name``). Nothing else goes in: no statement, no
parameter, no session handle or user id, so no token, hash, key or secret can reach a
trace. A call that fails records its exception (a ``StorageError`` says only what the
driver said) and an error status.

The spans cover the whole call: waiting for a connection, a retry on a broken one, and
every statement of a transaction. They cover database work only, never the in-memory
verification of a token. Without the package, a call costs one test of a module
global; with it but without an SDK configured by the application, the API's no-op span.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["trace_calls"]

try:
    from opentelemetry import trace as _trace
except ImportError:  # without the optional package: no spans, nothing else changes
    _tracer: Any = None
    _CLIENT: Any = None
else:
    _tracer = _trace.get_tracer("tessera.storage")
    _CLIENT = _trace.SpanKind.CLIENT

F = TypeVar("F", bound=Callable[..., Any])


def trace_calls(store_class: type, calls: Iterable[str]) -> None:
    """Run each of ``calls`` of ``store_class`` in a span; done once, where the class
    is defined. Its instances name their database system in ``dialect.name``."""
    for name in calls:
        setattr(store_class, name, _traced(name, getattr(store_class, name)))


def _traced(call: str, method: F) -> F:
    span_name = f"tessera.storage.{call}"

    @functools.wraps(method)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _tracer is None:
            return method(self, *args, **kwargs)
        system = self.dialect.name
        attributes = {"db.system": system, "db.system.name": system, "db.operation.name": call}
        with _tracer.start_as_current_span(span_name, kind=_CLIENT, attributes=attributes):
            return method(self, *args, **kwargs)

    return traced  # type: ignore[return-value]
