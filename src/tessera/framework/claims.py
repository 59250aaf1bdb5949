"""Claim validators: per-route rules on the access-token payload.

A validator is any callable that takes the payload and returns ``None`` when the session
passes, or a ``ClaimValidationError`` saying which claim failed and why::

    def must_be_admin(payload):
        if "admin" not in payload.get("roles", []):
            return ClaimValidationError("roles", {"message": "wrong value", "expected": "admin"})
        return None

A failing route answers ``403 {"message": "invalid claim", "claimValidationErrors": [...]}``
and the tokens stay in place: the frontend SDK reports the failure instead of refreshing.

``require_fresh(max_age)`` is the validator for actions that need a recent login
(changing a password, say): it refuses sessions whose ``auth_time`` is older, with the
id ``FRESH_AUTH_CLAIM`` and a reason the frontend can act on (ask for the password,
call a route that runs ``mark_reauthenticated``, retry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._tessera import wall_clock_ms

# The error and its data live in the error tree; importable from here as before.
from ..errors import ClaimValidationError, InvalidClaimError

__all__ = [
    "FRESH_AUTH_CLAIM",
    "ClaimValidationError",
    "ClaimValidator",
    "FreshAuthValidator",
    "InvalidClaimError",
    "check_claims",
    "require_fresh",
]

ClaimValidator = Callable[[Mapping[str, Any]], ClaimValidationError | None]

#: The ``id`` of a ``require_fresh`` failure in ``claimValidationErrors``.
FRESH_AUTH_CLAIM = "tessera-fresh-auth"


def check_claims(
    payload: Mapping[str, Any], validators: Iterable[ClaimValidator], now: int | None = None
) -> None:
    """Run every validator; raise ``InvalidClaimError`` listing all that failed.

    Validators that depend on the time (``FreshAuthValidator``) are asked at ``now``
    (milliseconds: the app's clock), when given."""
    failed = [
        error
        for check in validators
        if (
            error := check.check_at(payload, now)
            if now is not None and isinstance(check, FreshAuthValidator)
            else check(payload)
        )
        is not None
    ]
    if failed:
        raise InvalidClaimError(failed)


class FreshAuthValidator:
    """Passes when the session's ``auth_time`` is at most ``max_age`` seconds old."""

    __slots__ = ("max_age",)

    def __init__(self, max_age: int) -> None:
        if type(max_age) is not int or max_age < 0:
            raise ValueError("require_fresh(max_age): max_age is a whole number of seconds >= 0")
        self.max_age = max_age

    def __call__(self, payload: Mapping[str, Any]) -> ClaimValidationError | None:
        return self.check_at(payload, wall_clock_ms())

    def check_at(self, payload: Mapping[str, Any], now: int) -> ClaimValidationError | None:
        auth_time = payload.get("auth_time")
        if type(auth_time) is not int:
            age = None  # a session from before auth_time was recorded: never fresh
        else:
            age = max(0, now // 1000 - auth_time)
            if age <= self.max_age:
                return None
        return ClaimValidationError(
            FRESH_AUTH_CLAIM,
            {
                "message": "re-authentication required",
                "maxAgeInSeconds": self.max_age,
                "actualAgeInSeconds": age,
            },
        )

    def __repr__(self) -> str:
        return f"require_fresh({self.max_age})"


def require_fresh(max_age: int) -> FreshAuthValidator:
    """A claim validator refusing sessions whose user last proved who they are (logged
    in, or ``mark_reauthenticated``) more than ``max_age`` seconds ago::

        @app.post("/password")
        async def change(session=Depends(verify_session(claim_validators=[require_fresh(300)]))):
            ...

    A refused request gets ``403`` with ``claimValidationErrors`` holding
    ``{"id": "tessera-fresh-auth", "reason": {"message": ..., "maxAgeInSeconds": 300,
    "actualAgeInSeconds": 912}}`` (``null`` age when the session has no ``auth_time``).
    """
    return FreshAuthValidator(max_age)
