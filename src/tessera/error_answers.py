"""The one table from errors to HTTP answers: a column for the framework adapters, a
column for the core service (the Core Driver Interface).

=====================  ==========================================  ==========================
error                  framework: status, JSON message, clearing   CDI: status, text
=====================  ==========================================  ==========================
TryRefreshTokenError   401 "try refresh token"       keep tokens   200 TRY_REFRESH_TOKEN
UnauthorisedError      401 "unauthorised"            if asked      200 UNAUTHORISED
TokenTheftError        401 "token theft detected"    clear         200 TOKEN_THEFT_DETECTED
InvalidClaimError      403 "invalid claim" (+ the    keep tokens   -
                       ``claimValidationErrors``)
SessionError           401 "unauthorised"            clear         200 UNAUTHORISED
DuplicateCookiesError  200 (its message)             other copies  -
SessionLimitReachedEr. 409 "session limit reached" (+ keep tokens   409 (its message)
                       ``status``, ``maxSessions``)
StorageError           503 "session storage unavailable"           503 "The database is
                                                                   unavailable; try again"
KeyMaterialError       500 "session keys unavailable"  keep tokens 500 (its message)
BadRequestError        -                                           400 (its message)
ApiKeyError            -                                           401 "Invalid API key"
ForbiddenError         -                                           403 (its message)
NotFoundError          -                                           404 "Not found"
MethodNotAllowedError  -                                           405 "Method not supported"
BodyTooLargeError      -                                           413 "Request body too large"
TooManyRequestsError   -                                           429 (its message)
AppSettingsError       -                                           500 (its message)
TesseraError, other    503 "session storage unavailable"           500 "Internal error"
=====================  ==========================================  ==========================

An error takes the row of its nearest class in the table. In the framework column,
"if asked" clears the tokens unless the error says not to (``clear_tokens=False``: a
failed anti-CSRF check proves nothing about the tokens), and "other copies" expires the
cookies of the same name that are not ours. A custom handler in ``FrameworkConfig``
(the ``handler`` of the row) replaces the answer of its kind, never the token clearing.

The frontend SDKs act on the status and headers only; the bodies are the ones the
SuperTokens protocol documents. In the CDI column, session outcomes are not failures:
they are 200 answers with that ``status`` word (the SDKs raise on any 4xx or 5xx);
every other answer is plain text.

``SessionLimitReachedError`` is no session error: it refuses a login the app's route
asked for, so it neither clears the client's tokens nor uses a status the frontend SDKs
act on (401 makes them refresh, 403 is their "invalid claim", 429 makes the backend
SDKs retry): 409, with ``"status": "SESSION_LIMIT_REACHED"`` for the frontend to show.
The official backend SDKs know no such answer from the core: they raise a general error
carrying the status and the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import (
    ApiKeyError,
    AppSettingsError,
    BadRequestError,
    BodyTooLargeError,
    DuplicateCookiesError,
    ForbiddenError,
    InvalidClaimError,
    KeyMaterialError,
    MethodNotAllowedError,
    NotFoundError,
    SessionError,
    SessionLimitReachedError,
    StorageError,
    TesseraError,
    TokenTheftError,
    TooManyRequestsError,
    TryRefreshTokenError,
    UnauthorisedError,
)

__all__ = ["ERROR_ANSWERS", "CdiAnswer", "FrameworkAnswer", "cdi_answer", "framework_answer"]

Clearing = Literal["keep", "clear", "if_asked", "other_copies"]
Handler = Literal[
    "on_unauthorised", "on_try_refresh_token", "on_token_theft_detected", "on_invalid_claim"
]


@dataclass(frozen=True)
class FrameworkAnswer:
    status: int
    #: The body's ``message``; ``None``: the error's own message.
    message: str | None
    clearing: Clearing = "keep"
    #: The ``FrameworkConfig`` attribute holding a handler that may replace the answer.
    handler: Handler | None = None


@dataclass(frozen=True)
class CdiAnswer:
    status: int
    #: For 200, the ``status`` word of a session outcome; else the plain-text body, or
    #: ``None`` for the error's own message.
    text: str | None


_SESSION_EXPIRED = 401

#: error type -> (framework answer, CDI answer); ``None`` where that side never meets it.
ERROR_ANSWERS: dict[type[BaseException], tuple[FrameworkAnswer | None, CdiAnswer | None]] = {
    TryRefreshTokenError: (
        FrameworkAnswer(_SESSION_EXPIRED, "try refresh token", "keep", "on_try_refresh_token"),
        CdiAnswer(200, "TRY_REFRESH_TOKEN"),
    ),
    UnauthorisedError: (
        FrameworkAnswer(_SESSION_EXPIRED, "unauthorised", "if_asked", "on_unauthorised"),
        CdiAnswer(200, "UNAUTHORISED"),
    ),
    TokenTheftError: (
        FrameworkAnswer(
            _SESSION_EXPIRED, "token theft detected", "clear", "on_token_theft_detected"
        ),
        CdiAnswer(200, "TOKEN_THEFT_DETECTED"),
    ),
    InvalidClaimError: (FrameworkAnswer(403, "invalid claim", "keep", "on_invalid_claim"), None),
    SessionError: (
        FrameworkAnswer(_SESSION_EXPIRED, "unauthorised", "clear", "on_unauthorised"),
        CdiAnswer(200, "UNAUTHORISED"),
    ),
    DuplicateCookiesError: (FrameworkAnswer(200, None, "other_copies"), None),
    SessionLimitReachedError: (
        FrameworkAnswer(409, "session limit reached", "keep"),
        CdiAnswer(409, None),
    ),
    StorageError: (
        FrameworkAnswer(503, "session storage unavailable"),
        CdiAnswer(503, "The database is unavailable; try again"),
    ),
    KeyMaterialError: (
        FrameworkAnswer(500, "session keys unavailable"),
        CdiAnswer(500, None),
    ),
    BadRequestError: (None, CdiAnswer(400, None)),
    ApiKeyError: (None, CdiAnswer(401, "Invalid API key")),
    ForbiddenError: (None, CdiAnswer(403, None)),
    NotFoundError: (None, CdiAnswer(404, "Not found")),
    MethodNotAllowedError: (None, CdiAnswer(405, "Method not supported")),
    BodyTooLargeError: (None, CdiAnswer(413, "Request body too large")),
    TooManyRequestsError: (None, CdiAnswer(429, None)),
    AppSettingsError: (None, CdiAnswer(500, None)),
    TesseraError: (
        FrameworkAnswer(503, "session storage unavailable"),
        CdiAnswer(500, "Internal error"),
    ),
}


def framework_answer(error: TesseraError) -> FrameworkAnswer:
    """The framework adapters' answer to ``error``: the row of its nearest class."""
    for kind in type(error).__mro__:
        row = ERROR_ANSWERS.get(kind)
        if row is not None and row[0] is not None:
            return row[0]
    raise AssertionError("TesseraError has a row")  # pragma: no cover


def cdi_answer(kind: type[BaseException], *, refusals_only: bool = False) -> CdiAnswer:
    """The core service's answer to errors of ``kind``: the row of its nearest class;
    anything outside the tree is an internal error. ``refusals_only`` skips the session
    outcomes (200): a session error that escapes a handler was not meant to be answered."""
    for base in kind.__mro__:
        row = ERROR_ANSWERS.get(base)
        answer = None if row is None else row[1]
        if answer is not None and not (refusals_only and answer.status == 200):
            return answer
    internal = ERROR_ANSWERS[TesseraError][1]
    assert internal is not None
    return internal
