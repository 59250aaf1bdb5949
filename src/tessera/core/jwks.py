"""The key set an app publishes at ``/.well-known/jwks.json``, and the last one served,
kept in memory for when the database is down.

Keys are public and change only on rotation, which needs the database too, so while it
is down the last set served is still the right one: SDKs that start during an outage
can still verify the tokens they are given.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import StorageError
from .http import Response, json_response

if TYPE_CHECKING:
    from .context import Context

__all__ = ["LastKeySets", "jwks_response"]


class LastKeySets:
    """Per app: the last key set served and when its ``max-age`` ends (ms)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sets: dict[str, tuple[dict[str, Any], int]] = {}

    def remember(self, app_id: str, document: dict[str, Any], fresh_until: int) -> None:
        with self._lock:
            self._sets[app_id] = (document, fresh_until)

    def recall(self, app_id: str) -> tuple[dict[str, Any], int] | None:
        with self._lock:
            return self._sets.get(app_id)


def jwks_response(ctx: Context, app_id: str) -> Response:
    """The app's key set; from memory when the database cannot be read."""
    now = ctx.clock()
    try:
        engine = ctx.registry.get(app_id).dynamic
        document: dict[str, Any] = engine.get_jwks(now=now, include_static_key=True)
        max_age = engine.jwks_max_age(now=now)
    except StorageError:
        remembered = ctx.last_key_sets.recall(app_id)
        if remembered is None:
            raise
        document, fresh_until = remembered
        max_age = max(1, (fresh_until - now) // 1000)
    else:
        ctx.last_key_sets.remember(app_id, document, now + max_age * 1000)
    cache = f"max-age={max_age}, must-revalidate"
    return json_response(document, headers=[("cache-control", cache)])
