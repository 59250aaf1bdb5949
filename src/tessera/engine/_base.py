"""What every part of the session engine shares: its settings, store and keys, the
refresh-token codec, session lifetimes, and the checks on ids and secrets.

``SessionEngine`` (``engine/sessions.py``) is assembled from the parts built on this:
creating and verifying there, refreshing in ``refreshing.py``, reading and changing
stored sessions in ``session_records.py``, keys and other token kinds in ``signing.py``.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..config import TENANT_ID, SessionConfig, TenantSettings
from ..storage.base import SessionRecord, SessionStore
from . import jws
from .access_token import PROTECTED_CLAIMS, SESSION_CLAIMS, AccessToken, sign_access_token
from .key_wrapping import secret_row
from .keyring import KeyRing
from .refresh_token import RefreshTokenCodec
from .values import check_text, is_clean_text

__all__ = ["EngineBase", "RevocationCheck", "check_amr", "check_tenant_id"]

security_log = logging.getLogger("tessera.security")

#: The name of the secret that authenticates refresh tokens (HMAC-SHA256).
REFRESH_TOKEN_KEY = "refresh_token_key"
_MAX_USER_ID = 128
_MAX_AMR_VALUES, _MAX_AMR_LENGTH = 16, 64


class RevocationCheck(Protocol):
    """Answers "is this session revoked?" from memory: True or False when the answer
    is current within the staleness bound, ``None`` when the store must be asked."""

    def is_revoked(self, session_handle: str) -> bool | None: ...

    def payload_changed(self, session_handle: str) -> bool | None: ...


class EngineBase:
    """Sessions of one app, kept in ``store``, under ``config``. ``keys`` shares one key
    ring between engines of one app that differ only in settings that leave keys alone
    (the core's pair with and without dynamic signing keys).

    With ``session_claims`` (the embedded API), sessions carry ``auth_time`` and ``amr``
    (``SESSION_CLAIMS``) and app payloads may not set them; without (the core), those
    names are the app's, as in the SuperTokens core."""

    def __init__(
        self,
        config: SessionConfig,
        store: SessionStore,
        *,
        keys: KeyRing | None = None,
        session_claims: bool = False,
    ) -> None:
        self.config = config
        self.store = store
        self.session_claims = session_claims
        #: The claim names an app's payload may not set.
        self.reserved_claims = (
            PROTECTED_CLAIMS | SESSION_CLAIMS if session_claims else PROTECTED_CLAIMS
        )
        #: Set by the outer layer when a revocation feed runs (``tessera.revocation``).
        self.revocations: RevocationCheck | None = None
        #: The limits and idle timeout of a tenant. The core replaces it by one that
        #: reads its tenants' stored settings.
        self.tenant_settings_of: Callable[[str], TenantSettings] = config.for_tenant
        #: Whether any tenant's sessions may have an idle timeout (the core, which reads
        #: its tenants' settings as it goes, sets it).
        self.idle_timeouts_may_apply = config.session_idle_timeout is not None or any(
            config.for_tenant(t).session_idle_timeout is not None for t in config.tenant_settings
        )
        self.keys = keys if keys is not None else KeyRing(config, store)
        self._codec: RefreshTokenCodec | None = None
        #: token -> (kid, expiry in ms, session handle, payload JSON, its parser, [when
        #: the token's activity is next worth a look]): the JSON, not a dict, so each
        #: verification hands out a payload no caller shares.
        self._verified: dict[
            str, tuple[str, int, str, bytes, Callable[[bytes], Any], list[int]]
        ] = {}
        #: ``activity_write_interval`` in ms (0: off). A verification flags its session's
        #: activity (``SessionState.activity_due``) at most once per interval per token,
        #: from an interval after the token was issued (its minting recorded activity);
        #: the caller decides per session.
        self.activity_every_ms = config.activity_write_interval_ms
        #: The token ``verification_reads_store`` parsed last, for the verification that
        #: follows it on an event loop, so the token is not parsed twice. Taken (and
        #: cleared) only by a verification of that very string object.
        self._parsed_for_verify: tuple[str, jws.ParsedToken] | None = None
        self._codec_lock = threading.Lock()

    def _refresh_codec(self, now: int) -> RefreshTokenCodec:
        if self._codec is None:
            with self._codec_lock:
                if self._codec is None:
                    self._codec = RefreshTokenCodec(self.stored_secret(REFRESH_TOKEN_KEY, now))
        return self._codec

    def stored_secret(self, name: str, now: int) -> bytes:
        """The app's secret ``name`` (32 random bytes), made on first use and kept in the
        store so every process of the app shares it; sealed there under
        ``key_encryption_keys`` when they are set. Processes racing to make it each seal
        a value of their own: the one stored wins, and each opens that one. Reads the
        store: callers keep what it returns."""
        row = secret_row(self.store.app_id, name)
        fresh = base64.b64encode(secrets.token_bytes(32)).decode()
        stored = self.store.get_or_create_secret(name, self.keys.wrapper.seal(fresh, row), now)
        return base64.b64decode(self.keys.wrapper.open(stored, row))

    def _session_end(self, created_at: int) -> int | None:
        lifetime = self.config.session_max_lifetime_ms
        return None if lifetime is None else created_at + lifetime

    def _alive(self, record: SessionRecord, now: int) -> bool:
        end = self._session_end(record.created_at)
        alive = record.expires_at >= now and (end is None or end > now)
        return alive and not self._idle(record, now)

    def _active_since(self, tenant_id: str, now: int) -> int | None:
        """The earliest last activity a live session of ``tenant_id`` may have at ``now``;
        ``None`` when sessions there have no idle timeout."""
        idle = self.tenant_settings_of(tenant_id).session_idle_timeout_ms
        return None if idle is None else now - idle

    def _idle(self, record: SessionRecord, now: int) -> bool:
        """Whether the session went without a refresh or recorded activity for longer
        than its tenant's ``session_idle_timeout``: then it is over, as an expired one."""
        since = self._active_since(record.tenant_id, now)
        return since is not None and record.last_active_at < since

    def _sign(self, *, static: bool, now: int, **claims: Any) -> AccessToken:
        key = self.keys.signing_key(now, dynamic=not static)
        return sign_access_token(key=key, now=now, **claims)


def check_tenant_id(tenant_id: str) -> None:
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise ValueError(
            f"invalid tenant id {tenant_id!r}: use 1-64 characters from a-z, 0-9 and '-'"
        )


def check_amr(amr: Sequence[str]) -> list[str]:
    """The ``amr`` claim (RFC 8176 method names such as ``"pwd"``, ``"otp"``), checked."""
    if (
        isinstance(amr, str)
        or not isinstance(amr, Sequence)
        or len(amr) > _MAX_AMR_VALUES
        or not all(isinstance(m, str) and 0 < len(m) <= _MAX_AMR_LENGTH for m in amr)
    ):
        raise ValueError(
            f"amr must be a list of at most {_MAX_AMR_VALUES} method names such as "
            f'["pwd", "otp"], each 1-{_MAX_AMR_LENGTH} characters'
        )
    return [check_text(m, "amr") for m in amr]


def _check_user_id(user_id: str) -> None:
    # An empty id is allowed, as in SuperTokens: some apps key sessions on other data.
    if not isinstance(user_id, str) or len(user_id) > _MAX_USER_ID:
        raise ValueError(f"user_id must be a string of at most {_MAX_USER_ID} characters")
    check_text(user_id, "user_id")


def _check_handle(session_handle: str) -> str:
    return check_text(session_handle, "session_handle")


def _same_secret(expected: str, given: object) -> bool:
    """Constant-time comparison with a secret we made (always ASCII); anything else a
    client sends, lone surrogates included, is simply not equal."""
    return (
        isinstance(given, str)
        and given.isascii()
        and hmac.compare_digest(expected.encode(), given.encode())
    )


def _clean_metadata(value: str | None) -> str | None:
    """An IP address or user agent, kept for display: unfit characters are replaced,
    since a client's odd header is no reason to refuse its session."""
    if value is None or not isinstance(value, str) or is_clean_text(value):
        return value
    return value.encode("utf-8", "replace").decode().replace("\x00", "\ufffd")


def _tenant_scope(tenant_id: str | None, across_all_tenants: bool | None) -> str | None:
    """The SuperTokens rule: all tenants unless a tenant is named and 'across' is not set."""
    if across_all_tenants or tenant_id is None:
        return None
    check_tenant_id(tenant_id)
    return tenant_id


def _cap(value: int, limit: int | None) -> int:
    return value if limit is None else min(value, limit)
