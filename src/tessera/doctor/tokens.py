"""Reading what a session hands out, without verifying anything: the claims of a JWT
access token and the ``front-token`` header the frontend SDK decodes."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["FrontTokenError", "decode_front_token", "jwt_parts"]


def _b64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The header and claims of a JWS compact token, unverified; ``None`` if it is not
    one (an opaque token)."""
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        header, claims = _b64url_json(pieces[0]), _b64url_json(pieces[1])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


class FrontTokenError(ValueError):
    """The ``front-token`` header is not what the frontend SDK can read."""


def decode_front_token(value: str) -> dict[str, Any]:
    """The ``{"uid", "ate", "up"}`` object of a front token, decoded as the SDK does
    (standard base64 of UTF-8 JSON); ``FrontTokenError`` says what is wrong."""
    if "-" in value or "_" in value:
        raise FrontTokenError(
            "it is URL-safe base64 ('-' or '_'); the SDK decodes it with atob(), "
            "which accepts only standard base64"
        )
    try:
        decoded = json.loads(base64.b64decode(value, validate=True).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise FrontTokenError(f"it is not base64 of JSON ({exc})") from None
    if not isinstance(decoded, dict) or not {"uid", "ate", "up"} <= decoded.keys():
        raise FrontTokenError("it lacks one of the keys uid, ate and up")
    ate = decoded["ate"]
    if not isinstance(ate, int | float) or ate < 10**11:
        raise FrontTokenError(
            "its ate (the access token's expiry) must be milliseconds since 1970; "
            f"{ate!r} looks like seconds or is not a number"
        )
    return decoded
