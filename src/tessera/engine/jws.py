"""Compact JSON Web Signatures (RFC 7515) for the three algorithms tessera signs with.

Written against ``cryptography`` directly: a general JWT library spends more time in
Python than the RSA verification itself costs, and an access token is verified on every
request. Parsing is strict (exact base64url alphabet, canonical encoding, three
segments, JSON objects, low-S ECDSA signatures), so a token has exactly one accepted
spelling. JSON nesting is bounded before any parser sees it, and a header naming
``crit`` extensions is refused: tessera implements none (RFC 7515 section 4.1.11).
"""

from __future__ import annotations

import binascii
import json
import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from .values import checked_json, json_nesting_exceeds

__all__ = [
    "MalformedToken",
    "PrivateKey",
    "PublicKey",
    "b64url_decode",
    "b64url_encode",
    "decode_json_object",
    "fast_decoder",
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
#: The order of P-256. ECDSA accepts (r, s) and (r, n - s) alike; we sign and accept
#: only the low one, so that a signature has one spelling.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_HALF_ORDER = _P256_ORDER // 2
#: Bytes sorted into digits ("0"), letters ("a") and the rest (" "), in one C pass: 19
#: digits after a non-letter may be an integer that does not fit in 64 bits, while a run
#: inside a word (a hex hash) is not a number. (A regular expression costs 5 µs here.)
_CHARACTER_CLASS = bytes(
    ord("0") if chr(b).isdigit() and b < 128 else ord("a") if chr(b).isalpha() and b < 128 else 32
    for b in range(256)
)
_LONG_NUMBER = b" " + b"0" * 19


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


def _json_segment(segment: str) -> tuple[dict[str, Any], bytes]:
    data = b64url_decode(segment)
    if json_nesting_exceeds(data):
        raise MalformedToken("segment nests too deeply")
    return decode_json_object(data), data


def decode_json_object(data: bytes) -> dict[str, Any]:
    """The JSON object ``data`` spells (its depth already bounded); ``MalformedToken``
    otherwise."""
    # orjson reads an integer beyond 64 bits as a float (older versions refuse it),
    # which would change a signed claim: such text goes to the exact parser.
    if _LONG_NUMBER in data.translate(_CHARACTER_CLASS):
        value = _exact_json(data)
    else:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = _exact_json(data)
    if not isinstance(value, dict):
        raise MalformedToken("segment is not a JSON object")
    return value


def fast_decoder(data: bytes) -> Callable[[bytes], Any]:
    """The quickest parser that reads ``data`` exactly as ``decode_json_object`` did,
    for JSON text it has accepted: orjson alone, unless the text may hold a long
    integer or orjson refuses it."""
    if _LONG_NUMBER in data.translate(_CHARACTER_CLASS):
        return _exact_json
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return _exact_json
    return orjson.loads


def _exact_json(data: bytes) -> Any:
    # The standard parser, without what it accepts beyond JSON text: NaN and Infinity
    # (1e999 included) and lone surrogates ("\ud800", which orjson refuses).
    try:
        value = json.loads(data, parse_constant=_not_json, parse_float=_finite_float)
        return checked_json(value, "segment")
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError):
        raise MalformedToken("segment is not JSON") from None


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is not a finite number")
    return number


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
        if s > _P256_HALF_ORDER:
            s = _P256_ORDER - s
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(data)
    return signing_input + "." + b64url_encode(signature)


class ParsedToken:
    """A token split and decoded, its signature not yet checked."""

    __slots__ = (
        "header",
        "header_text",
        "payload",
        "payload_json",
        "signature",
        "signing_input",
    )

    def __init__(
        self,
        header: dict[str, Any],
        header_text: str,
        payload: dict[str, Any],
        payload_json: bytes,
        signing_input: bytes,
        signature: bytes,
    ) -> None:
        self.header = header
        self.header_text = header_text
        self.payload = payload
        #: The payload's JSON text, from which ``decode_json_object`` makes fresh copies.
        self.payload_json = payload_json
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
        header, _ = _json_segment(head)
        if "crit" in header:
            raise MalformedToken("critical header extensions are not supported")
    payload, payload_json = _json_segment(body)
    return ParsedToken(header, head, payload, payload_json, signing_input, b64url_decode(sig))


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
            if s > _P256_HALF_ORDER:
                return False
            der = encode_dss_signature(r, s)
            cast(ec.EllipticCurvePublicKey, key).verify(der, data, _ECDSA)
        elif algorithm == "EdDSA":
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
        else:
            return False
    except (InvalidSignature, TypeError):
        return False
    return True
