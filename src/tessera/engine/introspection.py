"""What a presented token is, for token introspection (RFC 7662) and revocation (RFC 7009).

Introspection reads and never writes: it does not confirm a refresh (as the core's verify
does), rotate a refresh token or report theft, so asking about a token changes nothing
about it. A token is *active* when it would be honoured right now:

- an access token whose signature verifies with the app's keys, which has not expired,
  and whose session is still in the store, alive;
- a refresh token we issued (its MAC verifies) that is its session's current one, of a
  session still in the store, alive. A token a refresh replaced is not active, even while
  a retry of that refresh would still be answered.

Revocation is broader: any token we issued for a session (an expired access token, a
replaced refresh token) names that session, since whoever holds one held the session.
A forged or foreign token names nothing.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import TryRefreshTokenError, UnauthorisedError
from ..storage.base import SessionRecord
from . import jws
from ._base import security_log
from .access_token import verify_access_token as verify_signed_token
from .refresh_token import hash_twice
from .signing import SigningEngine

__all__ = ["IntrospectingEngine", "TokenIntrospection", "TokenKind", "TokenOwner"]

TokenKind = Literal["access_token", "refresh_token"]
_KINDS: tuple[TokenKind, TokenKind] = ("access_token", "refresh_token")


@dataclass(frozen=True)
class TokenIntrospection:
    """An active token: what it is and whose session it belongs to. Times in ms."""

    kind: TokenKind
    session_handle: str
    user_id: str
    tenant_id: str
    #: When the token was issued (a refresh token: when its session was last refreshed).
    issued_at: int
    #: When it stops being accepted.
    expires_at: int
    #: The access token's own ``iss`` and ``scope`` claims, when they are strings.
    issuer: str | None = None
    scope: str | None = None


@dataclass(frozen=True)
class TokenOwner:
    """The session a genuine token was issued for (the user and tenant, when known)."""

    session_handle: str
    user_id: str | None
    tenant_id: str | None


def _order(hint: str | None) -> tuple[TokenKind, ...]:
    """The kinds to try, the hinted one first; an unknown hint is no hint."""
    return ("refresh_token", "access_token") if hint == "refresh_token" else _KINDS


class IntrospectingEngine(SigningEngine):
    def introspect_token(
        self, token: str, *, now: int, hint: str | None = None
    ) -> TokenIntrospection | None:
        """The token, if it is active now (see the module's rules); ``None`` for anything
        else, whatever is wrong with it. Reads the store, never writes to it."""
        for kind in _order(hint):
            found = (
                self._active_access_token(token, now)
                if kind == "access_token"
                else self._active_refresh_token(token, now)
            )
            if found is not None:
                return found
        return None

    def token_owner(self, token: str, *, now: int, hint: str | None = None) -> TokenOwner | None:
        """The session ``token`` was issued for, if we issued it: any access token whose
        signature verifies (expired too, while its key is still known) and any refresh
        token whose MAC verifies (replaced ones too), of a session still stored.
        ``None`` for anything else."""
        for kind in _order(hint):
            if kind == "access_token":
                payload = self._genuine_access_payload(token, now, check_expiry=False)
                if payload is None:
                    continue
                record = self.store.load_session(payload["sessionHandle"])
                if record is None or not _carries(payload, record):
                    continue
            else:
                try:
                    presented = self._refresh_codec(now).parse(token)
                except jws.MalformedToken:
                    continue
                record = self.store.load_session(presented.session_handle)
                if record is None:
                    continue
            return TokenOwner(record.session_handle, record.user_id, record.tenant_id)
        return None

    # -- each kind -----------------------------------------------------------------

    def _active_access_token(self, token: str, now: int) -> TokenIntrospection | None:
        payload = self._genuine_access_payload(token, now, check_expiry=True)
        if payload is None:
            return None
        record = self.store.load_session(payload["sessionHandle"])
        if record is None or not self._alive(record, now) or not _carries(payload, record):
            return None
        return TokenIntrospection(
            kind="access_token",
            session_handle=record.session_handle,
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            issued_at=payload["iat"] * 1000,
            expires_at=payload["exp"] * 1000,
            issuer=_text_claim(payload, "iss"),
            scope=_text_claim(payload, "scope"),
        )

    def _active_refresh_token(self, token: str, now: int) -> TokenIntrospection | None:
        try:
            presented = self._refresh_codec(now).parse(token)
        except jws.MalformedToken:
            return None
        record = self.store.load_session(presented.session_handle)
        if record is None or not self._alive(record, now):
            return None
        if not hmac.compare_digest(hash_twice(presented.text), record.refresh_token_hash):
            return None  # replaced by a refresh (or never current): not reported as theft
        end = self._session_end(record.created_at)
        return TokenIntrospection(
            kind="refresh_token",
            session_handle=record.session_handle,
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            issued_at=record.last_refreshed_at,
            expires_at=record.expires_at if end is None else min(record.expires_at, end),
        )

    def _genuine_access_payload(
        self, token: str, now: int, *, check_expiry: bool
    ) -> dict[str, Any] | None:
        """The claims of an access token of any version signed with this app's keys.
        Verified afresh, without the verification cache: introspection is rare."""
        find_key = self.keys.verification_key
        try:
            try:
                return verify_signed_token(token, find_key, now, check_expiry=check_expiry).payload
            except (UnauthorisedError, TryRefreshTokenError):
                # Not a version-5 token: perhaps one of the versions older clients speak.
                older = self.read_older_access_token(token, now=now, check_expiry=check_expiry)
                if older is None:
                    raise
                upgraded = verify_signed_token(older[0], find_key, now, check_expiry=check_expiry)
                return upgraded.payload
        except (UnauthorisedError, TryRefreshTokenError) as exc:
            security_log.debug("not an access token of this app: %s", exc.reason)
            return None


def _carries(payload: dict[str, Any], record: SessionRecord) -> bool:
    """Whether an access token's claims are its session's: a session's tokens carry its
    user and tenant, so anything else was not signed for it (a JWT signed with the app's
    key through the core's /recipe/jwt, say, naming someone else's session)."""
    return bool(record.user_id == payload["sub"] and record.tenant_id == payload["tId"])


def _text_claim(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) else None
