"""What every benchmark app shares: its settings, the signing key, the bare RS256 verify."""

from __future__ import annotations

import base64
import json
import os
import time
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "bare_verify",
    "env",
    "private_key",
    "private_pem",
    "public_key",
    "public_pem",
    "users",
]


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(f"BENCH_{name}", default)
    if value is None:
        raise RuntimeError(f"the benchmark runner sets BENCH_{name}; run python -m bench.peers")
    return value


def private_pem() -> str:
    """The RS256 key every peer signs with (made once per run by the runner)."""
    with open(os.path.join(env("KEY_DIR"), "private.pem"), encoding="ascii") as file:
        return file.read()


@cache
def private_key() -> rsa.RSAPrivateKey:
    """The same key, loaded once: PyJWT given a PEM string loads (and validates) it on every
    signature, which costs tens of milliseconds; the libraries that accept a key object get one."""
    key = serialization.load_pem_private_key(private_pem().encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_pem() -> str:
    with open(os.path.join(env("KEY_DIR"), "public.pem"), encoding="ascii") as file:
        return file.read()


def users() -> list[str]:
    """The user ids the login load cycles through, and the bulk users of seeding."""
    return [f"u{i}" for i in range(int(env("USERS", "1000")))] + ["bulk0", "bulk1", "bulk2"]


@cache
def public_key() -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(public_pem().encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def bare_verify(authorization: str | None) -> dict[str, Any] | None:
    """The ceiling: an RS256 JWT checked with ``cryptography`` and nothing else (signature,
    then ``exp``). Returns the claims, or None when the token is bad."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    token = authorization[7:]
    try:
        header, payload, signature = token.split(".")
        public_key().verify(
            _b64decode(signature),
            f"{header}.{payload}".encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        claims: dict[str, Any] = json.loads(_b64decode(payload))
    except (ValueError, InvalidSignature):
        return None
    return claims if claims.get("exp", 0) > time.time() else None
