"""Fixtures for the doctor: apps behind real loopback servers (running the doctor against
them: ``tests/_support/doctor.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tessera import Tessera

from .._support.doctor import Serve
from .._support.servers import Swappable, start_asgi, start_wsgi


@pytest.fixture(scope="session")
def doctor_servers() -> Iterator[dict[str, tuple[Swappable, int]]]:
    asgi, wsgi = Swappable(), Swappable()
    asgi_port, stop_asgi = start_asgi(asgi.asgi)
    wsgi_port, stop_wsgi = start_wsgi(wsgi.wsgi)
    yield {"asgi": (asgi, asgi_port), "wsgi": (wsgi, wsgi_port)}
    stop_asgi()
    stop_wsgi()


@pytest.fixture
def serve(doctor_servers: dict[str, tuple[Swappable, int]]) -> Serve:
    """``serve(app, "asgi" | "wsgi")`` puts ``app`` behind that server; its port."""

    def put(app: Any, kind: str = "asgi") -> int:
        holder, port = doctor_servers[kind]
        holder.app = app
        return port

    return put


@pytest.fixture
def tessera(tmp_path: Any) -> Iterator[Tessera]:
    """A Tessera object on the real clock (the doctor compares clocks)."""
    made = Tessera(f"sqlite:///{tmp_path}/sessions.db", expired_session_purge_interval=0)
    yield made
    made.close()
