"""The error tree and its one answer table: every error is drawn in ``tessera.errors``,
every error has an answer on each side that meets it, and the core's refusals read as
the SuperTokens core's."""

from __future__ import annotations

import inspect
import re

import pytest

import tessera.errors as errors
from tessera.core.http import error_response, session_outcome
from tessera.error_answers import cdi_answer, framework_answer
from tessera.errors import (
    ApiKeyError,
    BodyTooLargeError,
    ForbiddenError,
    MethodNotAllowedError,
    NotFoundError,
    StorageError,
    TesseraError,
    TokenTheftError,
    TooManyRequestsError,
    TryRefreshTokenError,
    UnauthorisedError,
    UnknownAppError,
    UnknownTenantError,
)

TREE = [
    value
    for value in vars(errors).values()
    if inspect.isclass(value) and issubclass(value, TesseraError)
]


@pytest.mark.parametrize("kind", TREE, ids=lambda k: k.__name__)
def test_every_error_is_drawn_and_exported(kind: type[TesseraError]) -> None:
    assert errors.__doc__ is not None
    # Drawn as a node of the tree: after the indent or a branch, before its note.
    assert re.search(rf"(^    |── ){kind.__name__}\s", errors.__doc__, re.MULTILINE)
    assert kind.__name__ in errors.__all__


def test_framework_column() -> None:
    assert framework_answer(TryRefreshTokenError()).status == 401
    assert framework_answer(UnauthorisedError()).clearing == "if_asked"
    assert framework_answer(TokenTheftError(session_handle="h", user_id="u")).clearing == "clear"
    assert framework_answer(StorageError("down")).status == 503
    # Errors only the core raises fall back to the root's row.
    assert framework_answer(NotFoundError()).message == "session storage unavailable"


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (NotFoundError(), 404, "Not found"),
        (ApiKeyError(), 401, "Invalid API key"),
        (BodyTooLargeError(), 413, "Request body too large"),
        (ForbiddenError("Your IP is not allowed"), 403, "Your IP is not allowed"),
        (StorageError("down"), 503, "The database is unavailable; try again"),
        (
            UnknownAppError("a1"),
            400,
            "AppId or tenantId not found => App with the following connectionURIDomain "
            "and appId combination not found: (, a1)",
        ),
        (
            UnknownTenantError("a1", "t1"),
            400,
            "AppId or tenantId not found => Tenant with the following connectionURIDomain, "
            "appId and tenantId combination not found: (, a1, t1)",
        ),
        # A session error escaping a handler, or anything else, is an internal error.
        (UnauthorisedError(), 500, "Internal error"),
        (RuntimeError("bug"), 500, "Internal error"),
    ],
)
def test_cdi_column_refusals(error: BaseException, status: int, text: str) -> None:
    response = error_response(error)
    assert (response.status, response.body.decode()) == (status, text)
    assert response.content_type == "text/plain; charset=utf-8"


def test_cdi_refusal_carries_its_headers() -> None:
    response = error_response(MethodNotAllowedError(["GET", "HEAD"]))
    assert (response.status, response.body) == (405, b"Method not supported")
    assert response.headers == [("allow", "GET, HEAD")]


def test_too_many_requests_says_when_to_come_back() -> None:
    response = error_response(TooManyRequestsError("Too many failed logins", retry_after=42))
    assert (response.status, response.body) == (429, b"Too many failed logins")
    assert response.headers == [("retry-after", "42")]


def test_cdi_session_outcomes_are_200_with_a_status_word() -> None:
    assert cdi_answer(TokenTheftError).text == "TOKEN_THEFT_DETECTED"
    answer = session_outcome(UnauthorisedError, message="Session does not exist.")
    assert (answer.status, answer.body) == (
        200,
        b'{"status":"UNAUTHORISED","message":"Session does not exist."}',
    )
