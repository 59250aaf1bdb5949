"""Refresh tokens: opaque to clients, authenticated by us, stored only as hashes.

A refresh token reads ``<session handle>.<a|n>.<secret>`` where ``secret`` is a 32-byte
nonce followed by a 16-byte MAC over the rest. The MAC (HMAC-SHA256 under the app's
refresh-token key) lets us tell a token we issued from random text *before* touching
the database: random text is merely unauthorised, while a genuine token that has been
replaced is evidence of theft. Without it, anyone who learnt a session handle could get
the session revoked by sending garbage.

Each token's successor is derived from it (``nonce' = HMAC(key, "next" | nonce)``), not
drawn at random. So when the same token is presented twice in quick succession (two
tabs, a retry after a lost response) both callers receive the *same* successor: the
session never forks, and no second secret is ever created. The anti-CSRF token paired
with a refresh token is derived the same way, so it needs no storage either.

``a`` marks a session that uses anti-CSRF tokens, ``n`` one that does not (header-mode
clients); the mark is part of the MAC and passes to every successor.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .jws import MalformedToken, b64url_decode, b64url_encode

__all__ = ["RefreshToken", "RefreshTokenCodec", "hash_once", "hash_twice"]

_NONCE = 32
_MAC = 16
MAX_REFRESH_TOKEN_LENGTH = 512


def hash_once(token: str) -> str:
    """What an access token carries as ``refreshTokenHash1``."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_twice(token: str) -> str:
    """What the database keeps: the hash of ``hash_once``."""
    return hashlib.sha256(hash_once(token).encode()).hexdigest()


@dataclass(frozen=True)
class RefreshToken:
    session_handle: str
    anti_csrf: bool
    nonce: bytes
    text: str


class RefreshTokenCodec:
    """Mints, derives and authenticates refresh tokens under one app's key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the refresh-token key must be at least 32 bytes")
        self._key = key

    def _mac(self, handle: str, mark: str, nonce: bytes) -> bytes:
        message = b"tessera-rt1|" + handle.encode() + b"|" + mark.encode() + b"|" + nonce
        return hmac.digest(self._key, message, "sha256")[:_MAC]

    def _build(self, handle: str, anti_csrf: bool, nonce: bytes) -> RefreshToken:
        mark = "a" if anti_csrf else "n"
        secret = b64url_encode(nonce + self._mac(handle, mark, nonce))
        return RefreshToken(handle, anti_csrf, nonce, f"{handle}.{mark}.{secret}")

    def mint(self, session_handle: str, *, anti_csrf: bool) -> RefreshToken:
        return self._build(session_handle, anti_csrf, secrets.token_bytes(_NONCE))

    def successor(self, token: RefreshToken) -> RefreshToken:
        nonce = hmac.digest(self._key, b"tessera-next|" + token.nonce, "sha256")
        return self._build(token.session_handle, token.anti_csrf, nonce)

    def anti_csrf_token(self, token: RefreshToken) -> str | None:
        if not token.anti_csrf:
            return None
        return b64url_encode(hmac.digest(self._key, b"tessera-csrf|" + token.nonce, "sha256")[:24])

    def parse(self, text: str) -> RefreshToken:
        """Authenticate a presented token; ``MalformedToken`` if we did not issue it."""
        # Every token we issue is ASCII; checking first keeps text that cannot even be
        # encoded (lone surrogates) away from the MAC.
        if not isinstance(text, str) or len(text) > MAX_REFRESH_TOKEN_LENGTH or not text.isascii():
            raise MalformedToken("not a refresh token")
        handle, _, rest = text.rpartition(".")
        handle, _, mark = handle.rpartition(".")
        if not handle or mark not in ("a", "n"):
            raise MalformedToken("not a refresh token")
        raw = b64url_decode(rest)
        if len(raw) != _NONCE + _MAC:
            raise MalformedToken("not a refresh token")
        nonce, mac = raw[:_NONCE], raw[_NONCE:]
        if not hmac.compare_digest(mac, self._mac(handle, mark, nonce)):
            raise MalformedToken("refresh token not issued here")
        return RefreshToken(handle, mark == "a", nonce, text)
