"""The framework adapters' answers to errors: the framework column of the one table in
``tessera.error_answers``, applied to a request (token clearing, custom handlers).

``DuplicateCookiesError`` is answered as SuperTokens answers it with
``olderCookieDomain`` set: the copies that are not ours are expired, and a 200 without a
front token makes the SDK fail that one call; the next refresh carries only our cookie.
"""

from __future__ import annotations

import logging
from typing import Any

from ..error_answers import framework_answer
from ..errors import (
    DuplicateCookiesError,
    InvalidClaimError,
    SessionError,
    SessionLimitReachedError,
    StorageError,
    TesseraError,
)
from .config import ErrorHandler, FrameworkConfig
from .transport import Reply, RequestView, ResponsePlan, clear_duplicate_cookies, clear_tokens

__all__ = ["DuplicateCookiesError", "reply_for_error"]

log = logging.getLogger("tessera")
security_log = logging.getLogger("tessera.security")


def reply_for_error(
    error: TesseraError, request: RequestView, config: FrameworkConfig, plan: ResponsePlan
) -> Reply:
    """The answer to ``error``; token clearing, when due, is added to ``plan``."""
    answer = framework_answer(error)
    clearing = answer.clearing
    if clearing == "if_asked":
        clearing = "clear" if getattr(error, "clear_tokens", True) else "keep"
    if clearing == "clear":
        clear_tokens(plan, config)
    elif clearing == "other_copies" and isinstance(error, DuplicateCookiesError):
        security_log.warning("several session cookies of one name: expiring all but ours")
        for name in error.cookie_names:
            clear_duplicate_cookies(plan, config, request, name)
    if isinstance(error, StorageError):
        log.error("session storage failed: %s", error)
    elif not isinstance(error, SessionError | DuplicateCookiesError | SessionLimitReachedError):
        log.error("unexpected tessera error: %r", error)
    body: dict[str, Any] = {"message": str(error) if answer.message is None else answer.message}
    if isinstance(error, InvalidClaimError):
        body["claimValidationErrors"] = [e.to_json() for e in error.errors]
    elif isinstance(error, SessionLimitReachedError):
        body.update(status="SESSION_LIMIT_REACHED", maxSessions=error.max_sessions)
    handler: ErrorHandler | None = (
        None if answer.handler is None else getattr(config, answer.handler)
    )
    if handler is None or not isinstance(error, SessionError):
        return Reply(answer.status, body)
    return handler(error, request)
