"""Claim validators: per-route rules on the access-token payload.

A validator is any callable that takes the payload and returns ``None`` when the session
passes, or a ``ClaimValidationError`` saying which claim failed and why::

    def must_be_admin(payload):
        if "admin" not in payload.get("roles", []):
            return ClaimValidationError("roles", {"message": "wrong value", "expected": "admin"})
        return None

A failing route answers ``403 {"message": "invalid claim", "claimValidationErrors": [...]}``
and the tokens stay in place: the frontend SDK reports the failure instead of refreshing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SessionError

__all__ = ["ClaimValidationError", "ClaimValidator", "InvalidClaimError", "check_claims"]


@dataclass(frozen=True)
class ClaimValidationError:
    """One failed claim: ``id`` names the claim, ``reason`` is JSON shown to the frontend."""

    id: str
    reason: Any = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


ClaimValidator = Callable[[Mapping[str, Any]], ClaimValidationError | None]


class InvalidClaimError(SessionError):
    """The session is valid but one of the route's claim validators rejected it."""

    def __init__(self, errors: list[ClaimValidationError]) -> None:
        super().__init__("invalid claim", reason=",".join(e.id for e in errors))
        self.errors = errors


def check_claims(payload: Mapping[str, Any], validators: Iterable[ClaimValidator]) -> None:
    """Run every validator; raise ``InvalidClaimError`` listing all that failed."""
    failed = [error for check in validators if (error := check(payload)) is not None]
    if failed:
        raise InvalidClaimError(failed)
