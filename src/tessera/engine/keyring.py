"""The app's signing keys, cached in memory and kept in step with the store.

Every process of an app reads its keys from the shared store, so all of them sign and
verify with the same set. The cache is refreshed when the rotation rules say a new key
is due, and when a token names a key the cache does not know (at most once per
``UNKNOWN_KID_RELOAD_MS``, so a flood of forged ``kid`` values costs one query per
interval, not one per request).

The private parts are sealed when a key is added and opened when a key is first loaded
(``key_wrapping``, under ``key_encryption_keys``): once per key and process, never per
verification.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..config import SessionConfig
from ..storage.base import KeyRecord, SessionStore
from .key_wrapping import KeyWrapper, Row, signing_key_row
from .keys import (
    SigningKey,
    generate_key,
    key_from_record,
    needs_new_dynamic_key,
    overlap_ms,
    signing_key_for,
    still_verifying,
    verifies_until,
)

__all__ = ["KeyInfo", "KeyRing", "KeySchedule"]

UNKNOWN_KID_RELOAD_MS = 1000


@dataclass(frozen=True)
class KeyInfo:
    """A signing key as an operator sees it: never its private part."""

    kid: str
    algorithm: str
    created_at: int
    dynamic: bool
    #: When it stops verifying (ms); ``None`` for a static key, which never does.
    verifies_until: int | None
    #: Whether new access tokens are signed with it now.
    signing: bool


@dataclass(frozen=True)
class KeySchedule:
    """The keys that verify now (newest first) and when the signing key next changes."""

    keys: list[KeyInfo]
    rotation_interval_ms: int
    #: When the next dynamic key takes over signing (it is published up to a minute
    #: before); ``None`` when tokens are signed with the static key, which never rotates.
    next_rotation_at: int | None


class KeyRing:
    def __init__(self, config: SessionConfig, store: SessionStore) -> None:
        self._config = config
        self._store = store
        #: Seals and opens stored key material: the private parts here, and the app's
        #: secrets for the engines that share this ring.
        self.wrapper = KeyWrapper(config.key_encryption_keys)
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        #: kid -> the instant (ms) until which the key verifies; read on every request.
        self._until: dict[str, int] = {}
        self._loaded_at: int | None = None
        #: Told of each key this ring creates (metrics and audit); the caller's sink.
        self.on_key_created: Callable[[SigningKey, int], None] | None = None

    # -- reading -----------------------------------------------------------------

    def verification_key(self, kid: str, now: int) -> SigningKey | None:
        """The key named ``kid`` if it may verify now; an unknown ``kid`` reads the keys
        from the store again (see ``would_load``)."""
        until = self._until.get(kid)
        if until is None:
            if not self.would_load(kid, now):
                return None
            self._reload(now)
            until = self._until.get(kid)
            if until is None:
                return None
        return self._keys.get(kid) if until > now else None

    def would_load(self, kid: str, now: int) -> bool:
        """Whether ``verification_key(kid, now)`` would read the store: ``kid`` is unknown
        and the keys were not read in the last ``UNKNOWN_KID_RELOAD_MS``."""
        if kid in self._until:
            return False
        return self._loaded_at is None or now - self._loaded_at >= UNKNOWN_KID_RELOAD_MS

    def reload_if_allowed(self, now: int) -> bool:
        """Read the keys again, unless that happened under ``UNKNOWN_KID_RELOAD_MS`` ago;
        True when it read them. For tokens that name no key (version 2), whose failed
        check may mean a key this process has not loaded yet."""
        if self._loaded_at is not None and now - self._loaded_at < UNKNOWN_KID_RELOAD_MS:
            return False
        self._reload(now)
        return True

    def is_live(self, kid: str, now: int) -> bool:
        """True when ``kid`` is loaded and may still verify; never reads the store."""
        return self._until.get(kid, 0) > now

    def signing_key(self, now: int, *, dynamic: bool) -> SigningKey:
        algorithm = self._config.access_token_signing_algorithm
        if dynamic:
            interval = self._config.key_update_interval_ms
            keys = self._dynamic(algorithm)
            if needs_new_dynamic_key(keys, now, interval):
                with self._lock:
                    self._reload_locked(now)
                    keys = self._dynamic(algorithm)
                    if needs_new_dynamic_key(keys, now, interval):
                        self._add(generate_key(algorithm, dynamic=True, now=now))
                        keys = self._dynamic(algorithm)
            return signing_key_for(keys, now, interval)
        static = self._static(algorithm)
        if static is None:
            with self._lock:
                self._reload_locked(now)
                static = self._static(algorithm)
                if static is None:
                    self._add(generate_key(algorithm, dynamic=False, now=now))
                    static = self._static(algorithm)
        assert static is not None
        return static

    def jwks(self, now: int) -> dict[str, list[dict[str, str]]]:
        """Every key that may verify a live token: what clients need to verify locally."""
        # Make sure the key that will sign next is already published.
        self.signing_key(now, dynamic=True)
        if not self._config.use_dynamic_access_token_signing_key:
            self.signing_key(now, dynamic=False)
        config = self._config
        keys = [
            k
            for k in self._keys.values()
            if still_verifying(
                k, now, config.key_update_interval_ms, config.access_token_validity_ms
            )
        ]
        keys.sort(key=lambda k: k.created_at, reverse=True)
        return {"keys": [k.public_jwk() for k in keys]}

    def jwks_max_age(self, now: int) -> int:
        """Seconds a client may cache the JWKS before the next key is published."""
        interval = self._config.key_update_interval_ms
        newest = max((k.created_at for k in self._keys.values() if k.is_dynamic), default=now)
        return max(1, (newest + interval - overlap_ms(interval) - now) // 1000)

    def schedule(self, now: int) -> KeySchedule:
        """What an operator needs to know of the keys: which verify, which signs, and
        when the next rotation is due. Makes the signing key if none is live yet."""
        config = self._config
        dynamic = config.use_dynamic_access_token_signing_key
        signer = self.signing_key(now, dynamic=dynamic)
        interval = config.key_update_interval_ms
        keys = sorted(self._keys.values(), key=lambda k: (k.created_at, k.kid), reverse=True)
        infos = [
            KeyInfo(
                kid=k.kid,
                algorithm=k.algorithm,
                created_at=k.created_at,
                dynamic=k.is_dynamic,
                verifies_until=(
                    verifies_until(k, interval, config.access_token_validity_ms)
                    if k.is_dynamic
                    else None
                ),
                signing=k.kid == signer.kid,
            )
            for k in keys
            if self.is_live(k.kid, now)
        ]
        next_rotation = None
        if dynamic:
            newest = max(k.created_at for k in keys if k.is_dynamic)
            # A key just published signs once its overlap has passed; the signing key
            # is replaced one interval after it was made.
            waiting = newest > signer.created_at
            next_rotation = newest + (overlap_ms(interval) if waiting else interval)
        return KeySchedule(infos, interval, next_rotation)

    # -- loading -----------------------------------------------------------------

    def _dynamic(self, algorithm: str) -> list[SigningKey]:
        return [k for k in self._keys.values() if k.is_dynamic and k.algorithm == algorithm]

    def _static(self, algorithm: str) -> SigningKey | None:
        statics = [k for k in self._keys.values() if not k.is_dynamic and k.algorithm == algorithm]
        return min(statics, key=lambda k: (k.created_at, k.kid)) if statics else None

    def _reload(self, now: int) -> None:
        with self._lock:
            self._reload_locked(now)

    def _reload_locked(self, now: int) -> None:
        config = self._config
        keys: dict[str, SigningKey] = {}
        expired: list[str] = []
        for record in self._store.list_signing_keys():
            known = self._keys.get(record.kid)
            key = known or key_from_record(
                record.kid,
                record.algorithm,
                record.created_at,
                self.wrapper.open(record.private_key, self._row(record.kid)),
            )
            if still_verifying(
                key, now, config.key_update_interval_ms, config.access_token_validity_ms
            ):
                keys[key.kid] = key
            else:
                expired.append(key.kid)
        if expired:
            self._store.delete_signing_keys(expired)
        # Swap whole dicts: readers on other threads never see one half-built.
        self._until = {
            kid: verifies_until(key, config.key_update_interval_ms, config.access_token_validity_ms)
            for kid, key in keys.items()
        }
        self._keys = keys
        self._loaded_at = now

    def _row(self, kid: str) -> Row:
        return signing_key_row(self._store.app_id, kid)

    def _add(self, key: SigningKey) -> None:
        public, private = key.to_record()
        sealed = self.wrapper.seal(private, self._row(key.kid))
        self._store.add_signing_key(
            KeyRecord(key.kid, key.algorithm, key.created_at, public, sealed)
        )
        # Another process may have added its own key meanwhile: read back what is stored.
        self._reload_locked(key.created_at)
        if self.on_key_created is not None:
            self.on_key_created(key, key.created_at)
