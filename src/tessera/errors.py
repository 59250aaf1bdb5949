"""The errors tessera raises.

Every error has one root, so ``except tessera.TesseraError`` catches them all::

    TesseraError
    ├── SessionError              the request's session cannot be used as it stands
    │   ├── UnauthorisedError     no session, a revoked or expired one, an unusable refresh token
    │   ├── TryRefreshTokenError  the access token is expired or not trusted: refresh, then retry
    │   └── TokenTheftError       a superseded refresh token came back: the session was revoked
    └── StorageError              the database failed or could not be reached

Messages are written to be safe to show to a client: they say what kind of failure
happened and never why a token was rejected in detail. The reason is kept in the
``reason`` attribute and logged on the ``tessera.security`` logger.

Caller mistakes (a bad setting, a wrong type) are not part of this tree: they raise
``ValueError`` or ``TypeError`` at once.
"""

from __future__ import annotations

__all__ = [
    "SessionError",
    "StorageError",
    "TesseraError",
    "TokenTheftError",
    "TryRefreshTokenError",
    "UnauthorisedError",
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
