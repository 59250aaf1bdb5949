"""The one table from errors to HTTP answers, shared by every framework adapter.

=========================  ======  =========================================  ============
error                      status  body                                       clears tokens
=========================  ======  =========================================  ============
TryRefreshTokenError       401     {"message": "try refresh token"}           no
UnauthorisedError          401     {"message": "unauthorised"}                if clear_tokens
TokenTheftError            401     {"message": "token theft detected"}        yes
InvalidClaimError          403     {"message": "invalid claim",               no
                                    "claimValidationErrors": [...]}
DuplicateCookiesError      200     {"message": "...multiple session..."}      other copies
StorageError               503     {"message": "session storage unavailable"} no
=========================  ======  =========================================  ============

The frontend SDKs act on the status and headers only; the bodies are the ones the
SuperTokens protocol documents. Custom handlers in ``FrameworkConfig`` replace the
answer of their kind, never the token clearing.

``DuplicateCookiesError`` is answered as SuperTokens answers it with
``olderCookieDomain`` set: the copies that are not ours are expired, and a 200 without a
front token makes the SDK fail that one call; the next refresh carries only our cookie.
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
from .transport import Reply, RequestView, ResponsePlan, clear_duplicate_cookies, clear_tokens

__all__ = ["DuplicateCookiesError", "reply_for_error"]

log = logging.getLogger("tessera")
security_log = logging.getLogger("tessera.security")
SESSION_EXPIRED_STATUS = 401
INVALID_CLAIM_STATUS = 403


class DuplicateCookiesError(TesseraError):
    """A refresh request carries several ``sRefreshToken`` cookies: left under an old
    ``cookie_domain``, or planted by a sibling sub-domain. Which one is ours cannot be
    told, so the others are expired and the client is asked to refresh again."""

    def __init__(self, cookie_names: tuple[str, ...]) -> None:
        super().__init__(
            "The request contains multiple session cookies. The copies this app did not "
            "set are being cleared; refresh again."
        )
        self.cookie_names = cookie_names


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
        security_log.warning("several session cookies of one name: expiring all but ours")
        for name in error.cookie_names:
            clear_duplicate_cookies(plan, config, request, name)
        return Reply(200, {"message": str(error)})
    else:
        if isinstance(error, StorageError):
            log.error("session storage failed: %s", error)
        else:
            log.error("unexpected tessera error: %r", error)
        return Reply(503, {"message": "session storage unavailable"})
    if handler is None or not isinstance(error, SessionError):
        return default
    return handler(error, request)
