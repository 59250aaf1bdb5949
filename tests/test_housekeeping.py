"""The background job of ``tessera.housekeeping`` deletes expired sessions of an app
object (``tests/core/test_housekeeping.py``: the same job in the core)."""

from __future__ import annotations

import time
from collections.abc import Callable

from tessera import Tessera

from ._support.clock import FakeClock


def test_background_job_purges_expired_sessions(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(
        expired_session_purge_interval=0.05, refresh_token_validity=1, access_token_validity=10
    )
    expired = t.syncio.create_new_session("user-1").get_handle()
    clock.advance(61)
    live = t.syncio.create_new_session("user-1").get_handle()
    deadline = time.monotonic() + 5
    while t.store.load_session(expired) is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert t.store.load_session(expired) is None
    assert t.store.load_session(live) is not None
