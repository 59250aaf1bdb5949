"""Access-token versions 2 to 4, as the SuperTokens core mints them for older callers.

The engine works with version-5 tokens only. The core speaks each caller's dialect:
create and refresh mint the version of the caller's CDI (below 2.21: 2, below 3.0: 3,
below 4.0: 4, else 5); verify and regenerate answer in the version of the token they
were given. An older token that verifies is re-signed, with the very key that signed
it, as the equivalent version-5 token, so that every rule the engine applies (expiry,
anti-CSRF, promotion, claims) applies to it unchanged; a token the engine mints is
turned back into the version the caller needs the same way.

Version 3 has no ``tId`` (the tenant is ``public``) and no ``rsub``; version 4 has
``tId``; both name their key and carry the claims at the top level, like version 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine import jws
from ..engine.access_token import AccessToken
from ..engine.keyring import KeyRing
from ..engine.keys import SigningKey
from ..errors import TryRefreshTokenError
from .legacy_tokens import is_v2_token, sign_v2_token, verify_v2_token

__all__ = ["OlderToken", "as_version_5", "in_version", "read_older_token", "version_for_cdi"]

#: Claims each older version owns (besides the custom ones), with their JSON types.
_STR, _INT, _NULLABLE = (str,), (int,), (str, type(None))
_V3_CLAIMS = {
    "sub": _STR,
    "exp": _INT,
    "iat": _INT,
    "sessionHandle": _STR,
    "refreshTokenHash1": _STR,
    "parentRefreshTokenHash1": _NULLABLE,
    "antiCsrfToken": _NULLABLE,
}
_V4_CLAIMS = {**_V3_CLAIMS, "tId": _STR}


@dataclass(frozen=True)
class OlderToken:
    """A verified token of version 2, 3 or 4: its claims in the version-5 shape, and
    the key that signed it."""

    version: int
    payload: dict[str, Any]
    key: SigningKey


def version_for_cdi(cdi: tuple[int, int]) -> int:
    """The token version the SuperTokens core mints for a caller of this CDI version."""
    if cdi >= (4, 0):
        return 5
    if cdi >= (3, 0):
        return 4
    return 3 if cdi >= (2, 21) else 2


def read_older_token(
    token: str, ring: KeyRing, now: int, *, check_expiry: bool = True
) -> OlderToken | None:
    """The token, verified, if it is of version 2, 3 or 4; ``None`` if it claims no
    such version. ``TryRefreshTokenError`` when it does but does not verify."""
    if is_v2_token(token):
        return OlderToken(2, *_read_v2(token, ring, now, check_expiry))
    try:
        parsed = jws.parse(token)
    except jws.MalformedToken:
        return None
    header = parsed.header
    claimed = header.get("version")
    version = {"3": 3, "4": 4}.get(claimed) if isinstance(claimed, str) else None
    if version is None:
        return None
    kid, alg = header.get("kid"), header.get("alg")
    if header.get("typ") != "JWT" or not isinstance(kid, str) or not isinstance(alg, str):
        raise _refused(version, "header")
    key = ring.verification_key(kid, now)
    if key is None or alg != key.algorithm:
        raise _refused(version, "unknown or retired signing key")
    if not jws.verify_signature(parsed, key.public_key, key.algorithm):
        raise _refused(version, "bad signature")
    claims = parsed.payload
    owned = _V4_CLAIMS if version == 4 else _V3_CLAIMS
    if not all(name in claims and type(claims[name]) in kinds for name, kinds in owned.items()):
        raise _refused(version, "claims missing or of the wrong type")
    # These are custom claims in older versions, but name the tenant and the recipe user
    # in version 5: a token carrying them cannot be carried over. tessera never mints one.
    if "rsub" in claims or (version == 3 and "tId" in claims):
        raise _refused(version, "a custom claim named rsub or tId")
    if claims.get("stt", 0) not in (0, None):
        raise _refused(version, "not a session token")
    if check_expiry and claims["exp"] * 1000 < now:
        raise _refused(version, "expired")
    payload = {**claims, "rsub": claims["sub"], "tId": claims.get("tId", "public")}
    return OlderToken(version, payload, key)


def _read_v2(
    token: str, ring: KeyRing, now: int, check_expiry: bool
) -> tuple[dict[str, Any], SigningKey]:
    """A version-2 token names no key: try each live dynamic key; when none verifies,
    read the keys again (at most once a second), as another process may have made the
    key that signed it."""
    while True:
        kids = [jwk["kid"] for jwk in ring.jwks(now)["keys"] if jwk["kid"].startswith("d-")]
        keys = [key for kid in kids if (key := ring.verification_key(kid, now)) is not None]
        try:
            return verify_v2_token(token, keys, now, check_expiry=check_expiry)
        except TryRefreshTokenError as exc:
            if "no live key" not in exc.reason or not ring.reload_if_allowed(now):
                raise


def as_version_5(older: OlderToken) -> str:
    """The version-5 token with the same claims, signed by the same key."""
    key = older.key
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": "5"}
    return jws.sign(header, older.payload, key.private_key)


def in_version(access: AccessToken, version: int, ring: KeyRing, now: int) -> str:
    """The engine's version-5 ``access`` token in ``version``."""
    if version == 5:
        return access.token
    payload = access.payload
    custom = {k: v for k, v in payload.items() if k not in _V4_CLAIMS and k != "rsub"}
    if version == 2:
        # Version-2 tokens are checked against the dynamic keys only.
        return sign_v2_token(
            ring.signing_key(now, dynamic=True),
            session_handle=payload["sessionHandle"],
            user_id=payload["sub"],
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
            user_data=custom,
            anti_csrf_token=payload["antiCsrfToken"],
            expiry=access.expiry,
            created_at=access.created_at,
        )
    kid = jws.parse(access.token).header["kid"]
    key = ring.verification_key(kid, now)
    if key is None:  # it signed this token a moment ago
        raise RuntimeError(f"signing key {kid} vanished")
    owned = _V4_CLAIMS if version == 4 else _V3_CLAIMS
    claims = {**custom, **{name: payload[name] for name in owned}}
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": str(version)}
    return jws.sign(header, claims, key.private_key)


def _refused(version: int, reason: str) -> TryRefreshTokenError:
    return TryRefreshTokenError(reason=f"version-{version} token: {reason}")
