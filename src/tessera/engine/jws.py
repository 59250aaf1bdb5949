"""Compact JSON Web Signatures (RFC 7515) for the three algorithms tessera signs with.

Written against ``cryptography`` directly: a general JWT library spends more time in
Python than the RSA verification itself costs, and an access token is verified on every
request. Parsing is strict (exact base64url alphabet, canonical encoding, three
segments, JSON objects), so a token has exactly one accepted spelling.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any, cast

import orjson
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


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {char: index for index, char in enumerate(_ALPHABET)}
#: Padding to add, and the low bits of the last character that must be zero, by length % 4.
_PAD = {0: b"", 2: b"==", 3: b"="}
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}


def b64url_decode(text: str | bytes) -> bytes:
    """Strict base64url: its own alphabet only, no padding, and one spelling per value."""
    try:
        raw = text.encode("ascii") if isinstance(text, str) else text
    except UnicodeEncodeError:
        raise MalformedToken("not base64url") from None
    remainder = len(raw) % 4
    # Deleting every alphabet character must leave nothing (one pass, in C).
    if remainder == 1 or raw.translate(None, _ALPHABET):
        raise MalformedToken("not base64url")
    # Set bits below the last whole byte would give a second spelling of the same bytes.
    if remainder and _VALUE[raw[-1]] & _UNUSED_BITS[remainder]:
        raise MalformedToken("non-canonical base64url")
    return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PAD[remainder])


def _json_segment(segment: str) -> dict[str, Any]:
    data = b64url_decode(segment)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        # orjson refuses integers beyond 64 bits, which JSON allows: ask the slow parser.
        try:
            value = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise MalformedToken("segment is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken("segment is not a JSON object")
    return value


def _dumps(value: dict[str, Any]) -> bytes:
    # NaN and Infinity are not JSON: refuse them rather than sign what nobody can parse.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


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

    __slots__ = ("header", "header_text", "payload", "signature", "signing_input")

    def __init__(
        self,
        header: dict[str, Any],
        header_text: str,
        payload: dict[str, Any],
        signing_input: bytes,
        signature: bytes,
    ) -> None:
        self.header = header
        self.header_text = header_text
        self.payload = payload
        self.signing_input = signing_input
        self.signature = signature


def parse(token: str, known_headers: Mapping[str, dict[str, Any]] | None = None) -> ParsedToken:
    """Split and decode a compact JWS; raises ``MalformedToken`` on anything off.

    ``known_headers`` maps header segments already decoded to their JSON: a server sees
    the same few headers (one per signing key) on every request."""
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
    header = known_headers.get(head) if known_headers is not None else None
    if header is None:
        header = _json_segment(head)
    return ParsedToken(header, head, _json_segment(body), signing_input, b64url_decode(sig))


def verify_signature(parsed: ParsedToken, key: PublicKey, algorithm: str) -> bool:
    """True when the signature is ``key``'s, made with ``algorithm``, over the token.

    Dispatching on the algorithm name (which the key record fixes) rather than on the
    key's class keeps abstract-class checks off the path every request takes."""
    signature, data = parsed.signature, parsed.signing_input
    try:
        if algorithm == "RS256":
            cast(rsa.RSAPublicKey, key).verify(signature, data, _PKCS1, _SHA256)
        elif algorithm == "ES256":
            if len(signature) != 64:
                return False
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            der = encode_dss_signature(r, s)
            cast(ec.EllipticCurvePublicKey, key).verify(der, data, _ECDSA)
        elif algorithm == "EdDSA":
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
        else:
            return False
    except (InvalidSignature, TypeError):
        return False
    return True
