"""Compact JSON Web Signatures (RFC 7515) for the three algorithms tessera signs with.

Written against ``cryptography`` directly: a general JWT library spends more time in
Python than the RSA verification itself costs, and an access token is verified on every
request. Parsing is strict (exact base64url alphabet, canonical encoding, three
segments, JSON objects), so a token has exactly one accepted spelling.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "MalformedToken",
    "PrivateKey",
    "PublicKey",
    "b64url_decode",
    "b64url_encode",
    "parse",
    "sign",
    "verify_signature",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

#: Access tokens travel in cookies and headers; nothing legitimate comes near this size.
MAX_TOKEN_LENGTH = 16 * 1024

_SHA256 = hashes.SHA256()
_PKCS1 = padding.PKCS1v15()
_ECDSA = ec.ECDSA(_SHA256)
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


class MalformedToken(ValueError):
    """The text is not a well-formed compact JWS."""


def b64url_encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def b64url_decode(text: str | bytes) -> bytes:
    try:
        raw = text.encode("ascii") if isinstance(text, str) else text
    except UnicodeEncodeError:
        raise MalformedToken("not base64url") from None
    if b"+" in raw or b"/" in raw or b"=" in raw:
        raise MalformedToken("not base64url")
    padded = raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4)
    try:
        data = binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error:
        raise MalformedToken("not base64url") from None
    # Leftover bits in the last character would give a second spelling of the same bytes.
    if binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=") != raw:
        raise MalformedToken("non-canonical base64url")
    return data


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (UnicodeDecodeError, ValueError):
        raise MalformedToken("segment is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken("segment is not a JSON object")
    return value


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def sign(header: dict[str, Any], payload: dict[str, Any], key: PrivateKey) -> str:
    """Serialise and sign; ``header["alg"]`` must match the key type."""
    signing_input = b64url_encode(_dumps(header)) + "." + b64url_encode(_dumps(payload))
    data = signing_input.encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(data, _PKCS1, _SHA256)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, _ECDSA))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(data)
    return signing_input + "." + b64url_encode(signature)


class ParsedToken:
    """A token split and decoded, its signature not yet checked."""

    __slots__ = ("header", "payload", "signature", "signing_input")

    def __init__(
        self,
        header: dict[str, Any],
        payload: dict[str, Any],
        signing_input: bytes,
        signature: bytes,
    ) -> None:
        self.header = header
        self.payload = payload
        self.signing_input = signing_input
        self.signature = signature


def parse(token: str) -> ParsedToken:
    """Split and decode a compact JWS; raises ``MalformedToken`` on anything off."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("not a token")
    head, dot, rest = token.partition(".")
    body, dot2, sig = rest.partition(".")
    if not (dot and dot2) or "." in sig:
        raise MalformedToken("not three segments")
    try:
        signing_input = token[: len(head) + 1 + len(body)].encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("not ascii") from None
    return ParsedToken(_json_segment(head), _json_segment(body), signing_input, b64url_decode(sig))


def verify_signature(parsed: ParsedToken, key: PublicKey) -> bool:
    """True when the signature is the key's over the token's signing input."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(parsed.signature, parsed.signing_input, _PKCS1, _SHA256)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            sig = parsed.signature
            if len(sig) != 64:
                return False
            der = encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )
            key.verify(der, parsed.signing_input, _ECDSA)
        else:
            key.verify(parsed.signature, parsed.signing_input)
    except InvalidSignature:
        return False
    return True
