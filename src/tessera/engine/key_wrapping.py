"""Encryption at rest for key material: the private parts of signing keys and the app
secrets (the refresh-token key), sealed with AES-256-GCM under a key-encryption key
(KEK) that lives in the application's settings, never in the database.

A sealed value describes itself::

    tessera-enc:v1:<kek id>:<url-safe base64 of the 12-byte nonce and the ciphertext>

The KEK id is derived from the key (a truncated SHA-256), so an operator generates one
string and nothing else; ``tessera keys status`` shows the ids of the configured keys.
The associated data binds each ciphertext to its row (its kind, app id and kid or
secret name): copied to another row, or to another app, it no longer decrypts.

Rows without the prefix are plain text, as tessera wrote them before encryption was
turned on; they are still read, so turning it on never loses a key, and
``tessera keys rewrap`` seals them. The first configured key seals; any configured key
opens what it sealed. A sealed row whose KEK is not configured, or that does not
decrypt, is a ``KeyMaterialError``: never a silently new key, which would log every
user out.

Sans-I/O: this module seals and opens strings; the key ring and the secret lookup call
it at their boundary with the store, so the store keeps storing strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import KeyMaterialError

__all__ = [
    "PREFIX",
    "KeyWrapper",
    "Row",
    "generate_key_encryption_key",
    "key_encryption_key_id",
    "parse_key_encryption_keys",
    "sealed_with",
    "secret_row",
    "signing_key_row",
]

#: What every sealed value starts with; the version names the format below.
PREFIX = "tessera-enc:v1:"
_SETTING = "key_encryption_keys"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_KEK_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Row:
    """Where a value is stored: what the ciphertext is bound to."""

    #: ``"signing_key"`` (the private part) or ``"secret"``.
    kind: str
    app_id: str
    #: The key's kid, or the secret's name.
    name: str

    def describe(self) -> str:
        what = "signing key" if self.kind == "signing_key" else "secret"
        return f"the {what} {self.name!r} of app {self.app_id!r}"


def signing_key_row(app_id: str, kid: str) -> Row:
    return Row("signing_key", app_id, kid)


def secret_row(app_id: str, name: str) -> Row:
    return Row("secret", app_id, name)


def generate_key_encryption_key() -> str:
    """A new KEK: 32 random bytes, url-safe base64 without padding (43 characters)."""
    return base64.urlsafe_b64encode(os.urandom(_KEY_BYTES)).rstrip(b"=").decode()


def _decode(text: str) -> bytes | None:
    """The 32 bytes of a KEK in url-safe base64 (padding optional), or ``None``."""
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == _KEY_BYTES else None


def key_encryption_key_id(text: str) -> str:
    """The id of a KEK, as written in the values it seals: 16 hex digits of a SHA-256
    of the key (it names the key without revealing anything of it)."""
    raw = _decode(text)
    if raw is None:
        raise ValueError("not a key-encryption key")
    return hashlib.sha256(b"tessera key-encryption key id\x00" + raw).hexdigest()[:16]


def parse_key_encryption_keys(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """The KEKs of the setting, newest first, checked: one key, a comma-separated
    string or a sequence of keys; empty for none. ``ValueError`` names the setting and
    the position of a bad key, never the key itself."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise ValueError(f"invalid setting {_SETTING}: must be a list of keys, or one key")
    keys: list[str] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, str):
            raise ValueError(f"invalid setting {_SETTING}: key {position} is not a string")
        text = item.strip()
        if not text and isinstance(value, str):
            continue  # "k1, k2," from the environment
        if _decode(text) is None:
            raise ValueError(
                f"invalid setting {_SETTING}: key {position} is not 32 bytes in url-safe "
                "base64 (make one with `tessera keys generate`)"
            )
        keys.append(text)
    ids = [key_encryption_key_id(k) for k in keys]
    if len(set(ids)) != len(ids):
        raise ValueError(f"invalid setting {_SETTING}: the same key is given twice")
    return tuple(keys)


def _associated_data(kek_id: str, row: Row) -> bytes:
    # JSON of a list: no two rows give the same bytes, whatever their names hold.
    return json.dumps([PREFIX, kek_id, row.kind, row.app_id, row.name]).encode()


class KeyWrapper:
    """Seals and opens key material under the configured KEKs (newest first). Without
    any, it seals nothing: values are stored in plain text, as before."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        checked = parse_key_encryption_keys(keys)
        self._keys = {key_encryption_key_id(k): AESGCM(_decode(k) or b"") for k in checked}
        #: The ids of the configured KEKs, newest (the one that seals) first.
        self.kek_ids: tuple[str, ...] = tuple(self._keys)

    @property
    def encrypts(self) -> bool:
        return bool(self.kek_ids)

    def seal(self, plain: str, row: Row) -> str:
        """``plain`` as it should be stored in ``row``: sealed under the newest KEK, or
        unchanged when none is configured."""
        if not self.kek_ids:
            return plain
        kek_id = self.kek_ids[0]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[kek_id].encrypt(nonce, plain.encode(), _associated_data(kek_id, row))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{PREFIX}{kek_id}:{body}"

    def open(self, stored: str, row: Row) -> str:
        """The plain value of what ``row`` holds. Plain text passes through; a sealed
        value needs its KEK (``KeyMaterialError`` names the missing id) and must have
        been sealed for this very row (else ``KeyMaterialError`` too)."""
        if not stored.startswith(PREFIX):
            return stored
        kek_id = sealed_with(stored)
        if kek_id is None:
            raise _undecryptable(row, "?")
        aead = self._keys.get(kek_id)
        if aead is None:
            configured = ", ".join(self.kek_ids) or "none is configured"
            raise KeyMaterialError(
                f"{row.describe()} is encrypted with key-encryption key {kek_id}, which is "
                f"not among {_SETTING} ({configured}); give this process that key "
                "(newest first, older ones after it)",
                kek_id=kek_id,
                reason="missing_key",
            )
        body = stored[len(PREFIX) + len(kek_id) + 1 :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated_data(kek_id, row)
            )
            return plain.decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise _undecryptable(row, kek_id) from None

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is as this wrapper would write it now: sealed under the
        newest KEK, or plain text when there is none."""
        kek_id = sealed_with(stored)
        return kek_id == (self.kek_ids[0] if self.kek_ids else None)


def _undecryptable(row: Row, kek_id: str) -> KeyMaterialError:
    return KeyMaterialError(
        f"{row.describe()} does not decrypt with key-encryption key {kek_id}: the stored "
        "value was changed, or copied from another row",
        kek_id=kek_id,
        reason="does_not_decrypt",
    )


def sealed_with(stored: str) -> str | None:
    """The id of the KEK that sealed ``stored``; ``None`` for plain text, or for a value
    whose id is not one tessera writes (it reaches error messages and logs)."""
    if not stored.startswith(PREFIX):
        return None
    kek_id, sep, _ = stored[len(PREFIX) :].partition(":")
    return kek_id if sep and _KEK_ID.fullmatch(kek_id) else None
