"""Fixtures for the framework tests: each framework's app behind a real loopback server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tessera import Tessera

from .._support.clock import FakeClock
from .._support.framework_apps import FACTORIES, Served
from .._support.servers import Swappable, start_asgi, start_wsgi

FRAMEWORKS = ["fastapi", "flask", "django"]


@pytest.fixture(scope="session")
def loopback_servers() -> Iterator[dict[str, tuple[Swappable, str]]]:
    asgi, wsgi = Swappable(), Swappable()
    asgi_port, stop_asgi = start_asgi(asgi.asgi)
    wsgi_port, stop_wsgi = start_wsgi(wsgi.wsgi)
    yield {
        "asgi": (asgi, f"http://127.0.0.1:{asgi_port}"),
        "wsgi": (wsgi, f"http://127.0.0.1:{wsgi_port}"),
    }
    stop_asgi()
    stop_wsgi()


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve(
    framework: str,
    loopback_servers: dict[str, tuple[Swappable, str]],
    clock: FakeClock,
    tmp_path: Any,
) -> Iterator[Callable[..., Served]]:
    """``serve(engine_settings={...}, **framework_settings)`` puts a fresh app behind the
    framework's real server and returns its address and objects."""
    made: list[Tessera] = []

    def make(engine_settings: dict[str, Any] | None = None, **settings: Any) -> Served:
        engine_settings = {"expired_session_purge_interval": 0, **(engine_settings or {})}
        tessera = Tessera(f"sqlite:///{tmp_path}/s{len(made)}.db", clock=clock, **engine_settings)
        made.append(tessera)
        holder, url = loopback_servers["wsgi" if framework in ("flask", "django") else "asgi"]
        served = Served(framework, url, tessera, clock)
        holder.app = FACTORIES[framework](tessera, served.log, **settings)
        return served

    yield make
    for tessera in made:
        tessera.close()
