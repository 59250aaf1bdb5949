"""What the doctor reports: one finding per check, with a status, a plain explanation
and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "Status", "counts", "exit_code"]


class Status(StrEnum):
    """How one check came out. ``skip`` means it could not be made (the reason says why)."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    """One check's outcome.

    ``check`` is a stable dotted name for scripts (``cookie.sRefreshToken.path``);
    ``summary`` is one line; ``explanation`` says why it matters to a browser; ``fix``
    says what to change.
    """

    check: str
    status: Status
    summary: str
    explanation: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status.value,
            "summary": self.summary,
            "explanation": self.explanation,
            "fix": self.fix,
        }


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings have each status (every status present, zero or not)."""
    tally = dict.fromkeys((s.value for s in Status), 0)
    for finding in findings:
        tally[finding.status.value] += 1
    return tally


def exit_code(findings: Iterable[Finding], *, strict: bool = False) -> int:
    """1 when a check failed (or, with ``strict``, warned), else 0."""
    bad = {Status.FAIL, Status.WARN} if strict else {Status.FAIL}
    return 1 if any(f.status in bad for f in findings) else 0
