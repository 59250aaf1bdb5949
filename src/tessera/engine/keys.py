"""Signing keys: what they are, how they are stored, and when they rotate.

Dynamic keys (``kid = "d-<created ms>"``) are replaced every ``I`` hours. A new key is
published ``OVERLAP`` before it signs anything, so every process (and every client that
caches the JWKS) learns it first, and an old key keeps verifying until every token it
signed has expired. The static key (``kid = "s-<uuid>"``) never rotates. These are the
SuperTokens core's rules, so its SDKs cache and refetch our JWKS correctly.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .jws import PrivateKey, PublicKey, b64url_encode

__all__ = [
    "OVERLAP_MS",
    "SigningKey",
    "generate_key",
    "key_from_record",
    "needs_new_dynamic_key",
    "signing_key_for",
    "still_verifying",
    "verifies_until",
]

#: How long a new dynamic key is published before it signs.
OVERLAP_MS = 60_000


@dataclass(frozen=True, eq=False)
class SigningKey:
    kid: str
    algorithm: str
    created_at: int
    private_key: PrivateKey = field(repr=False)
    public_key: PublicKey = field(repr=False)

    @property
    def is_dynamic(self) -> bool:
        return self.kid.startswith("d-")

    def public_jwk(self) -> dict[str, str]:
        key = self.public_key
        jwk: dict[str, str]
        if isinstance(key, rsa.RSAPublicKey):
            numbers = key.public_numbers()
            jwk = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e)}
        elif isinstance(key, ec.EllipticCurvePublicKey):
            numbers_ec = key.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url_encode(numbers_ec.x.to_bytes(32, "big")),
                "y": b64url_encode(numbers_ec.y.to_bytes(32, "big")),
            }
        else:
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        jwk.update(kid=self.kid, alg=self.algorithm, use="sig")
        return jwk

    def to_record(self) -> tuple[str, str]:
        """(public, private) as base64 DER: SubjectPublicKeyInfo and PKCS#8."""
        public = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        private = self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return base64.b64encode(public).decode(), base64.b64encode(private).decode()


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def generate_key(algorithm: str, *, dynamic: bool, now: int) -> SigningKey:
    private: PrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}")
    kid = f"d-{now}" if dynamic else f"s-{uuid.uuid4()}"
    return SigningKey(kid, algorithm, now, private, private.public_key())


def key_from_record(kid: str, algorithm: str, created_at: int, private_b64: str) -> SigningKey:
    private = serialization.load_der_private_key(base64.b64decode(private_b64), password=None)
    if not isinstance(
        private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise ValueError(f"stored key {kid} is of an unsupported type")
    return SigningKey(kid, algorithm, created_at, private, private.public_key())


#: "Verifies until" of a key that never retires (the static key).
FOREVER = 2**62


def verifies_until(key: SigningKey, interval_ms: int, validity_ms: int) -> int:
    """A dynamic key verifies until the last token it could have signed has expired."""
    return key.created_at + interval_ms + 2 * validity_ms if key.is_dynamic else FOREVER


def still_verifying(key: SigningKey, now: int, interval_ms: int, validity_ms: int) -> bool:
    return verifies_until(key, interval_ms, validity_ms) > now


def overlap_ms(interval_ms: int) -> int:
    # Very short intervals (tests) would otherwise publish keys that never sign.
    return min(OVERLAP_MS, interval_ms // 5)


def needs_new_dynamic_key(keys: Iterable[SigningKey], now: int, interval_ms: int) -> bool:
    """True when no key is young enough to sign until the next rotation is due."""
    threshold = now - interval_ms + overlap_ms(interval_ms)
    return not any(k.created_at > threshold for k in keys if k.is_dynamic)


def signing_key_for(dynamic_keys: Sequence[SigningKey], now: int, interval_ms: int) -> SigningKey:
    """The newest key, unless it is still in its publication window; then the one before."""
    ordered = sorted(dynamic_keys, key=lambda k: k.created_at, reverse=True)
    newest = ordered[0]
    if len(ordered) > 1 and now - newest.created_at < overlap_ms(interval_ms):
        previous = ordered[1]
        if now - previous.created_at < interval_ms:
            return previous
    return newest
