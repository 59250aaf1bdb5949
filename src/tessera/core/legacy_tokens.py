"""Version-2 access tokens: the format SuperTokens cores gave clients of CDI 2.x.

A V2 token is ``header.payload.signature``: a fixed header, the claims as JSON in
standard base64, and an RS256 signature (standard base64) over ``header.payload``.
Times are milliseconds. The token names no key, so a verifier tries each live one.

tessera mints them only for requests that say ``cdi-version`` below 2.21, and accepts
them from any client, so sessions made by an old backend keep working after an upgrade.
Parsing is strict: the exact header, canonical padded base64, exactly the known claims
with their JSON types. Any failure is ``TryRefreshTokenError``, never another error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..engine.jws import MAX_TOKEN_LENGTH
from ..engine.keys import SigningKey
from ..errors import TryRefreshTokenError

__all__ = ["V2_HEADER", "is_v2_token", "sign_v2_token", "verify_v2_token"]

#: ``{"alg":"RS256","typ":"JWT","version":"2"}`` as the SuperTokens core spells it.
V2_HEADER = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsInZlcnNpb24iOiIyIn0="

_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_REQUIRED = {
    "sessionHandle": str,
    "userId": str,
    "refreshTokenHash1": str,
    "userData": dict,
    "expiryTime": int,
    "timeCreated": int,
}
_NULLABLE = ("parentRefreshTokenHash1", "antiCsrfToken")


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
        raise _refused("not a version-2 token")
    signing_input, _, signature_text = token.rpartition(".")
    payload_text = signing_input[len(V2_HEADER) + 1 :]
    payload = _strict_b64decode(payload_text)
    signature = _strict_b64decode(signature_text)
    signer = next((k for k in keys if _signed_by(k, signing_input.encode(), signature)), None)
    if signer is None:
        raise _refused("no live key made this signature")
    try:
        claims = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refused("claims are not JSON") from None
    if not _well_formed(claims):
        raise _refused("claims missing or of the wrong type")
    if check_expiry and claims["expiryTime"] < now:
        raise _refused("access token expired")
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


def _refused(reason: str) -> TryRefreshTokenError:
    return TryRefreshTokenError(reason=f"version-2 token: {reason}")


def _strict_b64decode(text: str) -> bytes:
    # The pattern admits only the canonical padded spelling, except for set bits below
    # the last whole byte; re-encoding catches those.
    if not text or not _BASE64.match(text):
        raise _refused("not canonical base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _refused("not canonical base64") from None
    if base64.b64encode(data).decode() != text:
        raise _refused("not canonical base64")
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
    if not isinstance(claims, dict) or not set(claims) <= {*_REQUIRED, *_NULLABLE}:
        return False
    # Exact types: JSON gives str, int, dict; a bool is not a time.
    return all(type(claims.get(name)) is kind for name, kind in _REQUIRED.items()) and all(
        claims.get(name) is None or type(claims[name]) is str for name in _NULLABLE
    )
