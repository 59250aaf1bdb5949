"""The app's public keys, JWTs signed for the app, and access tokens of the versions
older SuperTokens clients speak (``token_versions``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import jws
from ._base import EngineBase
from .access_token import AccessToken
from .token_versions import as_version_5, in_version, read_older_token

__all__ = ["SigningEngine"]


class SigningEngine(EngineBase):
    def get_jwks(
        self, *, now: int, include_static_key: bool = False
    ) -> dict[str, list[dict[str, str]]]:
        """Every key that may verify a live token. ``include_static_key`` publishes the
        static key even when this engine signs with dynamic keys (the core publishes it
        always: a caller may ask for a static-key token at any time)."""
        if include_static_key:
            self.keys.signing_key(now, dynamic=False)
        return self.keys.jwks(now)

    def jwks_max_age(self, *, now: int) -> int:
        """Seconds a client may cache the key set before the next key is published."""
        return self.keys.jwks_max_age(now)

    def sign_jwt(
        self,
        payload: Mapping[str, Any],
        *,
        issuer: str,
        validity: int,
        use_static_key: bool,
        now: int,
    ) -> str:
        """A JWT of ``payload`` for the app's own use, valid ``validity`` seconds, signed
        with a key of the published set so that anyone can verify it."""
        key = self.keys.signing_key(now, dynamic=not use_static_key)
        claims = {**payload, "iat": now // 1000, "exp": now // 1000 + validity, "iss": issuer}
        header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": "5"}
        return jws.sign(header, claims, key.private_key)

    def read_older_access_token(
        self, token: str, *, now: int, check_expiry: bool = True
    ) -> tuple[str, int] | None:
        """A token of version 2, 3 or 4 as the version-5 token with the same claims,
        signed by the same key, and its version; ``None`` when it claims no such version;
        ``TryRefreshTokenError`` when it does but does not verify."""
        older = read_older_token(token, self.keys, now, check_expiry=check_expiry)
        return None if older is None else (as_version_5(older), older.version)

    def access_token_in_version(self, access: AccessToken, version: int, *, now: int) -> str:
        """``access`` (version 5, made by this engine) as a token of ``version``."""
        return in_version(access, version, self.keys, now)
