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
from typing import Any

# The error and its data live in the error tree; importable from here as before.
from ..errors import ClaimValidationError, InvalidClaimError

__all__ = ["ClaimValidationError", "ClaimValidator", "InvalidClaimError", "check_claims"]

ClaimValidator = Callable[[Mapping[str, Any]], ClaimValidationError | None]


def check_claims(payload: Mapping[str, Any], validators: Iterable[ClaimValidator]) -> None:
    """Run every validator; raise ``InvalidClaimError`` listing all that failed."""
    failed = [error for check in validators if (error := check(payload)) is not None]
    if failed:
        raise InvalidClaimError(failed)
