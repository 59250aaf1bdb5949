"""Running the doctor in-process against the test apps, and reading its findings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tessera.doctor import Finding
from tessera.doctor.plan import diagnose
from tessera.doctor.probe import HttpSender
from tessera.doctor.settings import DoctorSettings

#: Where the website of the test apps runs: one site with http://localhost:PORT,
#: another site than http://127.0.0.1:PORT.
WEBSITE = "http://localhost:3000"
LOGIN = {"login_path": "/login", "login_body": '{"userId": "doctor-test"}'}
Serve = Callable[..., int]


def run_doctor(url: str, **settings: Any) -> list[Finding]:
    """The doctor's findings about the app at ``url`` (``settings`` as ``DoctorSettings``)."""
    with HttpSender(timeout=10) as send:
        return diagnose(DoctorSettings(url=url, **settings), send)


def the(findings: list[Finding], check: str) -> Finding:
    """The one finding of ``check``."""
    matching = [f for f in findings if f.check == check]
    assert len(matching) == 1, (check, [f.check for f in findings])
    return matching[0]


def problems(findings: list[Finding]) -> list[Finding]:
    """The warnings and failures among ``findings``."""
    return [f for f in findings if f.status.value in ("warn", "fail")]
