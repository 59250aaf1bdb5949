"""Fixtures for the doctor: apps behind real loopback servers, and a way to run the doctor
against them over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tessera import Tessera
from tessera.doctor import Finding
from tessera.doctor.plan import diagnose
from tessera.doctor.probe import HttpSender
from tessera.doctor.settings import DoctorSettings

from ..framework.servers import Swappable, start_asgi, start_wsgi

#: Where the website of the test apps runs: one site with http://localhost:PORT,
#: another site than http://127.0.0.1:PORT.
WEBSITE = "http://localhost:3000"
LOGIN = {"login_path": "/login", "login_body": '{"userId": "doctor-test"}'}
Serve = Callable[..., int]


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


def run_doctor(url: str, **settings: Any) -> list[Finding]:
    with HttpSender(timeout=10) as send:
        return diagnose(DoctorSettings(url=url, **settings), send)


def the(findings: list[Finding], check: str) -> Finding:
    """The one finding of ``check``."""
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, (check, [f.check for f in findings])
    return matching[0]


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status.value in ("warn", "fail")]
