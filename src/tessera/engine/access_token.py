"""Access tokens: signed JWTs shaped as SuperTokens version-5 tokens.

Header ``{"alg", "kid", "typ": "JWT", "version": "5"}``; claims ``sub``, ``rsub``,
``tId``, ``exp``/``iat`` (whole seconds, rounded down), ``sessionHandle``,
``refreshTokenHash1``, ``parentRefreshTokenHash1`` and ``antiCsrfToken`` (both may be
null), then the app's own claims. Any JWT library can verify them with our JWKS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import TryRefreshTokenError, UnauthorisedError
from . import jws
from .keys import SigningKey

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "PROTECTED_CLAIMS",
    "SESSION_CLAIMS",
    "AccessToken",
    "VerifiedAccessToken",
    "check_custom_claims",
    "check_payload_size",
    "merge_payload",
    "sign_access_token",
    "verify_access_token",
]

#: Claims the session system owns; an app's payload may not set them.
PROTECTED_CLAIMS = frozenset(
    {
        "sub",
        "rsub",
        "tId",
        "exp",
        "iat",
        "sessionHandle",
        "refreshTokenHash1",
        "parentRefreshTokenHash1",
        "antiCsrfToken",
    }
)

#: Claims an embedded app's session sets at login (``auth_time``, seconds; ``amr``, how
#: the user proved who they are) and keeps in the stored payload, so that a refresh
#: re-signs them unchanged. Only ``mark_reauthenticated`` changes them; an app's payload
#: may not set them. (The core leaves them to the SDKs, as the SuperTokens core does.)
SESSION_CLAIMS = frozenset({"auth_time", "amr"})

#: Header segments seen on verified tokens, decoded. A handful in practice (one per key);
#: bounded so that forged headers cannot grow it.
_KNOWN_HEADERS: dict[str, dict[str, Any]] = {}
_MAX_KNOWN_HEADERS = 256


@dataclass(slots=True)
class AccessToken:
    token: str
    payload: dict[str, Any]
    #: Milliseconds, always whole seconds (they are the ``exp``/``iat`` claims * 1000).
    expiry: int
    created_at: int


@dataclass(slots=True)
class VerifiedAccessToken:
    """What verification found: the payload, the key that signed it, and the payload's
    JSON text, from which ``jws.decode_json_object`` makes fresh copies of the payload."""

    payload: dict[str, Any]
    key: SigningKey
    payload_json: bytes


def check_custom_claims(
    payload: Mapping[str, Any], reserved: frozenset[str] = PROTECTED_CLAIMS
) -> None:
    """Reject an app payload that would overwrite a claim the session system owns."""
    if not isinstance(payload, Mapping):
        raise TypeError("the access token payload must be a dict")
    clash = reserved.intersection(payload)
    if clash:
        raise ValueError(
            f"the access token payload may not set {', '.join(sorted(clash))}: "
            "these claims belong to the session"
        )


#: The most an app's access-token payload may weigh, as UTF-8 JSON. With the session's
#: own claims, base64 and the signature, a token stays under ``jws.MAX_TOKEN_LENGTH``,
#: the most any verification accepts: a bigger payload would make a token no request
#: could ever use. (Browsers drop cookies over 4 KiB: in cookie mode keep payloads to
#: a few hundred bytes, and put the rest in the session data.)
MAX_PAYLOAD_BYTES = 10 * 1024


def check_payload_size(payload: Mapping[str, Any]) -> None:
    """Reject a payload that would make an access token too long to be accepted."""
    size = len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise ValueError(
            f"the access token payload is {size} bytes of JSON, more than the "
            f"{MAX_PAYLOAD_BYTES} an access token can carry; keep large values in the "
            "session data"
        )


def sign_access_token(
    *,
    key: SigningKey,
    user_id: str,
    tenant_id: str,
    session_handle: str,
    refresh_token_hash1: str,
    parent_refresh_token_hash1: str | None,
    anti_csrf_token: str | None,
    custom_claims: Mapping[str, Any],
    now: int,
    expiry: int,
) -> AccessToken:
    iat, exp = now // 1000, expiry // 1000
    payload = dict(custom_claims)
    payload.update(
        sub=user_id,
        exp=exp,
        iat=iat,
        tId=tenant_id,
        rsub=user_id,
        sessionHandle=session_handle,
        refreshTokenHash1=refresh_token_hash1,
        parentRefreshTokenHash1=parent_refresh_token_hash1,
        antiCsrfToken=anti_csrf_token,
    )
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": "5"}
    return AccessToken(jws.sign(header, payload, key.private_key), payload, exp * 1000, iat * 1000)


def verify_access_token(
    token: str,
    find_key: Callable[[str, int], SigningKey | None],
    now: int,
    *,
    check_expiry: bool = True,
    parsed: jws.ParsedToken | None = None,
) -> VerifiedAccessToken:
    """Check signature, structure and expiry; return the payload and the key that
    verified it.

    A token that is not even shaped like ours is ``UnauthorisedError``; one that is
    shaped right but not currently trusted (expired, unknown or retired key, wrong
    algorithm, bad signature) is ``TryRefreshTokenError``. ``parsed``: the token, parsed
    already (``jws.parse``) by a caller that looked at it first.
    """
    if parsed is None:
        try:
            parsed = jws.parse(token, _KNOWN_HEADERS)
        except jws.MalformedToken as exc:
            raise UnauthorisedError("invalid access token", reason=f"malformed: {exc}") from None
    header, payload = parsed.header, parsed.payload
    kid, alg = header.get("kid"), header.get("alg")
    if (
        header.get("typ") != "JWT"
        or header.get("version") != "5"
        or not isinstance(kid, str)
        or not isinstance(alg, str)
        or not _well_formed_claims(payload)
    ):
        raise UnauthorisedError("invalid access token", reason="malformed: claims or header")
    key = find_key(kid, now)
    if key is None:
        raise TryRefreshTokenError(reason="unknown or retired signing key")
    # The key decides the algorithm; the header only has to agree with it. This is
    # what defeats "alg": "none" and the RSA-public-key-as-HMAC-secret trick.
    if alg != key.algorithm:
        raise TryRefreshTokenError(reason="algorithm does not match the key")
    if not jws.verify_signature(parsed, key.public_key, key.algorithm):
        raise TryRefreshTokenError(reason="bad signature")
    if parsed.header_text not in _KNOWN_HEADERS and len(_KNOWN_HEADERS) < _MAX_KNOWN_HEADERS:
        _KNOWN_HEADERS[parsed.header_text] = header
    if check_expiry and payload["exp"] * 1000 < now:
        raise TryRefreshTokenError(reason="access token expired")
    return VerifiedAccessToken(payload, key, parsed.payload_json)


def _well_formed_claims(payload: dict[str, Any]) -> bool:
    # Exact type checks: JSON gives exactly str, int and None (and bool, refused here).
    # One flat expression: this runs on every verification.
    get = payload.get
    parent, anti_csrf = get("parentRefreshTokenHash1"), get("antiCsrfToken")
    return (
        type(get("sub")) is str
        and type(get("rsub")) is str
        and type(get("tId")) is str
        and type(get("sessionHandle")) is str
        and type(get("refreshTokenHash1")) is str
        and (parent is None or type(parent) is str)
        and (anti_csrf is None or type(anti_csrf) is str)
        and type(get("exp")) is int
        and type(get("iat")) is int
        # "stt" marks the token type (OAuth tokens carry 1): only session tokens pass.
        and get("stt", 0) in (0, None)
    )


def merge_payload(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """The custom claims of ``current`` with ``update`` applied; ``None`` removes a key."""
    if not isinstance(update, Mapping):
        raise TypeError("the access token payload update must be a dict")
    merged = {k: v for k, v in current.items() if k not in PROTECTED_CLAIMS}
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
