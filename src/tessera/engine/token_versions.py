"""Access-token versions 2 to 4, as SuperTokens cores minted them for older clients.

The engine works with version-5 tokens only. An older token that verifies is re-signed,
with the very key that signed it, as the equivalent version-5 token, so that every rule
the engine applies (expiry, anti-CSRF, promotion, claims) applies to it unchanged; a
token the engine mints is turned back into an older version the same way. The core
service uses this to answer callers of older CDI versions in their own dialect.

Version 2 is ``header.payload.signature``: a fixed header, the claims as JSON in
standard base64, and an RS256 signature (standard base64) over ``header.payload``.
Times are milliseconds. The token names no key, so a verifier tries each live one.
Parsing is strict: the exact header, canonical padded base64, exactly the known claims
with their JSON types.

Version 3 has no ``tId`` (the tenant is ``public``) and no ``rsub``; version 4 has
``tId``; both name their key and carry the claims at the top level, like version 5.
Any failure to verify is ``TryRefreshTokenError``, never another error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import TryRefreshTokenError
from . import jws
from .access_token import AccessToken
from .jws import MAX_TOKEN_LENGTH
from .keyring import KeyRing
from .keys import SigningKey

__all__ = [
    "V2_HEADER",
    "OlderToken",
    "as_version_5",
    "in_version",
    "is_v2_token",
    "read_older_token",
    "sign_v2_token",
    "verify_v2_token",
]

#: ``{"alg":"RS256","typ":"JWT","version":"2"}`` as the SuperTokens core spells it.
V2_HEADER = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsInZlcnNpb24iOiIyIn0="

_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_V2_REQUIRED = {
    "sessionHandle": str,
    "userId": str,
    "refreshTokenHash1": str,
    "userData": dict,
    "expiryTime": int,
    "timeCreated": int,
}
_V2_NULLABLE = ("parentRefreshTokenHash1", "antiCsrfToken")


def is_v2_token(token: str) -> bool:
    return token.startswith(V2_HEADER + ".")


def sign_v2_token(
    key: SigningKey,
    *,
    session_handle: str,
    user_id: str,
    refresh_token_hash1: str,
    parent_refresh_token_hash1: str | None,
    user_data: Mapping[str, Any],
    anti_csrf_token: str | None,
    expiry: int,
    created_at: int,
) -> str:
    """A V2 token signed with ``key`` (an RS256 key); absent values are left out."""
    if not isinstance(key.private_key, rsa.RSAPrivateKey):
        raise ValueError("version-2 access tokens need an RS256 signing key")
    claims: dict[str, Any] = {
        "sessionHandle": session_handle,
        "userId": user_id,
        "refreshTokenHash1": refresh_token_hash1,
        "parentRefreshTokenHash1": parent_refresh_token_hash1,
        "userData": dict(user_data),
        "antiCsrfToken": anti_csrf_token,
        "expiryTime": expiry,
        "timeCreated": created_at,
    }
    text = json.dumps(
        {k: v for k, v in claims.items() if v is not None},
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    signing_input = V2_HEADER + "." + base64.b64encode(text.encode()).decode()
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.b64encode(signature).decode()


def verify_v2_token(
    token: str, keys: Iterable[SigningKey], now: int, *, check_expiry: bool = True
) -> tuple[dict[str, Any], SigningKey]:
    """Check a V2 token against ``keys`` and return its claims in the version-5 shape
    the engine works with (``sub``, ``exp`` and ``iat`` in seconds, custom claims at
    the top, tenant ``public``), with the key that signed it."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not is_v2_token(token):
        raise _refused(2, "not a version-2 token")
    signing_input, _, signature_text = token.rpartition(".")
    payload_text = signing_input[len(V2_HEADER) + 1 :]
    payload = _strict_b64decode(payload_text)
    signature = _strict_b64decode(signature_text)
    signer = next((k for k in keys if _signed_by(k, signing_input.encode(), signature)), None)
    if signer is None:
        raise _refused(2, "no live key made this signature")
    try:
        claims = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refused(2, "claims are not JSON") from None
    if not _well_formed(claims):
        raise _refused(2, "claims missing or of the wrong type")
    if check_expiry and claims["expiryTime"] < now:
        raise _refused(2, "access token expired")
    return {
        **claims["userData"],
        "sub": claims["userId"],
        "rsub": claims["userId"],
        "tId": "public",
        "exp": claims["expiryTime"] // 1000,
        "iat": claims["timeCreated"] // 1000,
        "sessionHandle": claims["sessionHandle"],
        "refreshTokenHash1": claims["refreshTokenHash1"],
        "parentRefreshTokenHash1": claims.get("parentRefreshTokenHash1"),
        "antiCsrfToken": claims.get("antiCsrfToken"),
    }, signer


def _strict_b64decode(text: str) -> bytes:
    # The pattern admits only the canonical padded spelling, except for set bits below
    # the last whole byte; re-encoding catches those.
    if not text or not _BASE64.match(text):
        raise _refused(2, "not canonical base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _refused(2, "not canonical base64") from None
    if base64.b64encode(data).decode() != text:
        raise _refused(2, "not canonical base64")
    return data


def _signed_by(key: SigningKey, data: bytes, signature: bytes) -> bool:
    public = key.public_key
    if not isinstance(public, rsa.RSAPublicKey) or len(signature) != public.key_size // 8:
        return False
    try:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _well_formed(claims: Any) -> bool:
    if not isinstance(claims, dict) or not set(claims) <= {*_V2_REQUIRED, *_V2_NULLABLE}:
        return False
    # Exact types: JSON gives str, int, dict; a bool is not a time.
    return all(type(claims.get(name)) is kind for name, kind in _V2_REQUIRED.items()) and all(
        claims.get(name) is None or type(claims[name]) is str for name in _V2_NULLABLE
    )


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
