"""The one table from errors to HTTP answers, shared by every framework adapter.

=========================  ======  =========================================  ============
error                      status  body                                       clears tokens
=========================  ======  =========================================  ============
TryRefreshTokenError       401     {"message": "try refresh token"}           no
UnauthorisedError          401     {"message": "unauthorised"}                if clear_tokens
TokenTheftError            401     {"message": "token theft detected"}        yes
InvalidClaimError          403     {"message": "invalid claim",               no
                                    "claimValidationErrors": [...]}
DuplicateCookiesError      500     {"message": "...older_cookie_domain..."}   no
StorageError               503     {"message": "session storage unavailable"} no
=========================  ======  =========================================  ============

The frontend SDKs act on the status and headers only; the bodies are the ones the
SuperTokens protocol documents. Custom handlers in ``FrameworkConfig`` replace the
answer of their kind, never the token clearing.
"""

from __future__ import annotations

import logging

from ..errors import (
    SessionError,
    StorageError,
    TesseraError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from .claims import InvalidClaimError
from .config import ErrorHandler, FrameworkConfig
from .transport import Reply, RequestView, ResponsePlan, clear_tokens

__all__ = ["DuplicateCookiesError", "reply_for_error"]

log = logging.getLogger("tessera")
SESSION_EXPIRED_STATUS = 401
INVALID_CLAIM_STATUS = 403


class DuplicateCookiesError(TesseraError):
    """The request carries two refresh-token cookies (the cookie domain was changed) and
    ``older_cookie_domain`` is not set, so tessera cannot tell which one is current."""

    def __init__(self) -> None:
        super().__init__(
            "The request contains multiple session cookies. This may happen if you've changed "
            "the 'cookie_domain' setting: set 'older_cookie_domain' to the previous value."
        )


def reply_for_error(
    error: TesseraError, request: RequestView, config: FrameworkConfig, plan: ResponsePlan
) -> Reply:
    """The answer to ``error``; token clearing, when due, is added to ``plan``."""
    handler: ErrorHandler | None
    if isinstance(error, InvalidClaimError):
        handler = config.on_invalid_claim
        default = Reply(
            INVALID_CLAIM_STATUS,
            {
                "message": "invalid claim",
                "claimValidationErrors": [e.to_json() for e in error.errors],
            },
        )
    elif isinstance(error, TokenTheftError):
        clear_tokens(plan, config)
        handler = config.on_token_theft_detected
        default = Reply(SESSION_EXPIRED_STATUS, {"message": "token theft detected"})
    elif isinstance(error, TryRefreshTokenError):
        handler = config.on_try_refresh_token
        default = Reply(SESSION_EXPIRED_STATUS, {"message": "try refresh token"})
    elif isinstance(error, SessionError):
        if not isinstance(error, UnauthorisedError) or error.clear_tokens:
            clear_tokens(plan, config)
        handler = config.on_unauthorised
        default = Reply(SESSION_EXPIRED_STATUS, {"message": "unauthorised"})
    elif isinstance(error, DuplicateCookiesError):
        log.error("%s", error)
        return Reply(500, {"message": str(error)})
    else:
        if isinstance(error, StorageError):
            log.error("session storage failed: %s", error)
        else:
            log.error("unexpected tessera error: %r", error)
        return Reply(503, {"message": "session storage unavailable"})
    if handler is None or not isinstance(error, SessionError):
        return default
    return handler(error, request)
