"""The errors tessera raises.

Every error has one root, so ``except tessera.TesseraError`` catches them all::

    TesseraError
    ├── SessionError              the request's session cannot be used as it stands
    │   ├── UnauthorisedError     no session, a revoked or expired one, an unusable refresh token
    │   ├── TryRefreshTokenError  the access token is expired or not trusted: refresh, then retry
    │   ├── TokenTheftError       a superseded refresh token came back: the session was revoked
    │   └── InvalidClaimError     the session is valid, but a route's claim validator refused it
    ├── DuplicateCookiesError     a refresh carried several session cookies of one name
    ├── SessionLimitReachedError  a new session would exceed max_sessions_per_user ("deny")
    ├── StorageError              the database failed or could not be reached
    ├── KeyMaterialError          a stored key cannot be decrypted (key_encryption_keys)
    └── RequestError              the core service refuses a request (CDI: plain-text answers)
        ├── BadRequestError       the request is malformed or names something wrong
        │   ├── UnknownAppError       the path names an app that does not exist
        │   └── UnknownTenantError    the path names a tenant that does not exist
        ├── ApiKeyError           the API key is missing or wrong
        ├── ForbiddenError        refused by a guard (client address, browser, host, tenant)
        ├── NotFoundError         no such API
        ├── MethodNotAllowedError the API does not answer this method
        ├── BodyTooLargeError     the body is over ``max_body_size``
        ├── TooManyRequestsError  too many failed operator logins from one address
        └── AppSettingsError      the settings stored for an app are invalid

Each error's HTTP answer, for the framework adapters and for the core service, is in
one table: ``tessera.error_answers``.

Messages are written to be safe to show to a client: they say what kind of failure
happened and never why a token was rejected in detail. The reason is kept in the
``reason`` attribute and logged on the ``tessera.security`` logger.

Caller mistakes (a bad setting, a wrong type) are not part of this tree: they raise
``ValueError`` or ``TypeError`` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiKeyError",
    "AppSettingsError",
    "BadRequestError",
    "BodyTooLargeError",
    "ClaimValidationError",
    "DuplicateCookiesError",
    "ForbiddenError",
    "InvalidClaimError",
    "KeyMaterialError",
    "MethodNotAllowedError",
    "NotFoundError",
    "RequestError",
    "SessionError",
    "SessionLimitReachedError",
    "StorageError",
    "TesseraError",
    "TokenTheftError",
    "TooManyRequestsError",
    "TryRefreshTokenError",
    "UnauthorisedError",
    "UnknownAppError",
    "UnknownTenantError",
]


class TesseraError(Exception):
    """The root of every error tessera raises on purpose."""


class SessionError(TesseraError):
    """The session presented by a client cannot be used.

    ``reason`` is a short machine-readable word for logs and metrics (for example
    ``"bad_signature"``); it is not meant for clients.
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or message


class UnauthorisedError(SessionError):
    """There is no usable session: the client must log in again.

    ``clear_tokens`` tells a framework adapter whether the client's tokens should be
    removed (they should, unless the error came from a missing token).
    """

    def __init__(
        self, message: str = "unauthorised", *, reason: str = "", clear_tokens: bool = True
    ):
        super().__init__(message, reason=reason)
        self.clear_tokens = clear_tokens


class TryRefreshTokenError(SessionError):
    """The access token cannot be trusted now (expired, unknown key, bad signature, anti-CSRF
    mismatch). The client should call the refresh API and retry."""

    def __init__(self, message: str = "try refresh token", *, reason: str = "") -> None:
        super().__init__(message, reason=reason)


class TokenTheftError(SessionError):
    """A refresh token that had already been replaced was used again.

    Either the legitimate client or an attacker holds a stolen copy; tessera cannot tell
    which, so by default the session has been revoked (``revoked``; the setting
    ``revoke_session_on_token_theft=False`` leaves ending it to the caller).
    ``session_handle`` and ``user_id`` say whose session it was, for alerting.
    """

    def __init__(self, *, session_handle: str, user_id: str, revoked: bool = True) -> None:
        super().__init__("token theft detected", reason="refresh_token_reused")
        self.session_handle = session_handle
        self.user_id = user_id
        self.revoked = revoked


class StorageError(TesseraError):
    """The session store failed: the database is down, unreachable, or refused a statement.

    This is never a statement about the client's session. Adapters answer it with a
    server error and leave the client's tokens in place, so nobody is logged out
    because the database blinked.
    """


class KeyMaterialError(TesseraError):
    """A signing key or secret in the database is encrypted and cannot be decrypted:
    its key-encryption key is not among ``key_encryption_keys`` (``reason``
    ``"missing_key"``; ``kek_id`` names it), or the stored value was altered or copied
    from another row (``"does_not_decrypt"``).

    A setting of this process is wrong, not the client's session: adapters answer 500
    and leave the client's tokens in place, and no new key is made in its stead, so
    nobody is logged out once the right key is given."""

    def __init__(self, message: str, *, kek_id: str, reason: str) -> None:
        super().__init__(message)
        self.kek_id = kek_id
        self.reason = reason


@dataclass(frozen=True)
class ClaimValidationError:
    """One failed claim: ``id`` names the claim, ``reason`` is JSON shown to the frontend."""

    id: str
    reason: Any = field(default=None)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


class InvalidClaimError(SessionError):
    """The session is valid but one of the route's claim validators rejected it."""

    def __init__(self, errors: list[ClaimValidationError]) -> None:
        super().__init__("invalid claim", reason=",".join(e.id for e in errors))
        self.errors = errors


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


class SessionLimitReachedError(TesseraError):
    """The user already holds ``max_sessions_per_user`` live sessions in this tenant and
    the policy is ``"deny"``: no session was created. The user may log out elsewhere (or
    the app may end one of ``get_all_session_handles_for_user``) and log in again.

    ``max_sessions`` is the limit and ``live_sessions`` how many the user holds (more
    than the limit only if it was lowered since they were created)."""

    def __init__(self, *, user_id: str, tenant_id: str, max_sessions: int, live_sessions: int):
        super().__init__(
            f"session limit reached: user {user_id!r} holds {live_sessions} live sessions in "
            f"tenant {tenant_id!r}, and max_sessions_per_user is {max_sessions}"
        )
        self.user_id = user_id
        self.tenant_id = tenant_id
        self.max_sessions = max_sessions
        self.live_sessions = live_sessions


# -- the core service's refusals ---------------------------------------------------------


class RequestError(TesseraError):
    """The core service refuses a request. ``message`` is plain text safe to show the
    caller (the answer's text when the answer table has none of its own); ``headers``
    go with the answer."""

    def __init__(self, message: str = "", *, headers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequestError(RequestError):
    """A caller mistake in the request: a missing or mistyped field, a bad header."""


class UnknownAppError(BadRequestError):
    """The app named by the request does not exist (the SuperTokens core's words)."""

    def __init__(self, app_id: str) -> None:
        super().__init__(
            "AppId or tenantId not found => App with the following connectionURIDomain "
            f"and appId combination not found: (, {app_id})"
        )
        self.app_id = app_id


class UnknownTenantError(BadRequestError):
    """The tenant named by the request does not exist (the SuperTokens core's words)."""

    def __init__(self, app_id: str, tenant_id: str) -> None:
        super().__init__(
            "AppId or tenantId not found => Tenant with the following connectionURIDomain, "
            f"appId and tenantId combination not found: (, {app_id}, {tenant_id})"
        )
        self.app_id = app_id
        self.tenant_id = tenant_id


class ApiKeyError(RequestError):
    """The request carries no API key that opens this app."""


class ForbiddenError(RequestError):
    """A guard refused the request; ``message`` says which."""


class NotFoundError(RequestError):
    """No API at this path (or not for this CDI version)."""


class MethodNotAllowedError(RequestError):
    """The API does not answer this method; the answer's ``Allow`` lists those it does."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(headers=(("allow", ", ".join(allowed)),))
        self.allowed = allowed


class BodyTooLargeError(RequestError):
    """The request body is larger than ``max_body_size``."""


class TooManyRequestsError(RequestError):
    """Refused for a while after too many failed attempts (the admin console's login);
    the answer's ``Retry-After`` says how many seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers=(("retry-after", str(retry_after)),))
        self.retry_after = retry_after


class AppSettingsError(RequestError):
    """The settings stored for an app cannot be used: only a database written by hand
    or by an older tessera gets here, since every way in validates them."""
