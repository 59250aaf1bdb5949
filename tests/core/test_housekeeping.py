"""The core's background job deletes expired sessions (the same job as the app object's)."""

from __future__ import annotations

import time
from pathlib import Path

from tessera.core.asgi import CoreApp
from tessera.core.config import load_config

from .._support.clock import FakeClock


def test_core_purges_expired_sessions(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path}/core.db\nexpired_session_purge_interval: 0.05\n"
    )
    clock = FakeClock()
    app = CoreApp(load_config(path, environ={}), clock=clock)
    try:
        engine = app.registry.get("public").dynamic
        expired = engine.create_new_session("u-1", {}, {}, "public", now=clock()).session_handle
        clock.advance(engine.config.refresh_token_validity_ms / 1000 + 1)
        live = engine.create_new_session("u-1", {}, {}, "public", now=clock()).session_handle
        app.start_housekeeping()
        deadline = time.monotonic() + 5
        while app.store.load_session(expired) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert app.store.load_session(expired) is None
        assert app.store.load_session(live) is not None
    finally:
        app.close()
