"""The session engine: every session operation, over a store, at a given time.

No clock, no HTTP, no driver: callers pass ``now`` (milliseconds) and the engine talks
to the store through its narrow interface. The facades (``SyncSessions`` in
``tessera._sync``, ``AsyncSessions`` in ``tessera._async``) read the clock and choose
the thread.

``SessionEngine`` is assembled by concept: creating and verifying sessions here,
refreshing in ``refreshing.py``, reading and changing stored sessions in
``session_records.py``, keys and other token kinds in ``signing.py``, what a token is
(introspection, revocation by token) in ``introspection.py``; what they share
is in ``_base.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import SessionLimitReachedError, TryRefreshTokenError, UnauthorisedError
from ..storage.base import SessionLimit, SessionRecord
from . import jws
from ._base import (
    RevocationCheck,
    _cap,
    _check_user_id,
    _clean_metadata,
    _same_secret,
    check_amr,
    check_tenant_id,
    security_log,
)
from .access_token import (
    AccessToken,
    check_custom_claims,
    check_payload_size,
    merge_payload,
)
from .access_token import verify_access_token as verify_signed_token
from .introspection import IntrospectingEngine
from .refresh_token import hash_once, hash_twice
from .refreshing import RefreshingEngine
from .session_listing import DeviceSession, SessionListingEngine, SessionPage
from .session_records import SessionRecordsEngine
from .signing import SigningEngine
from .state import SessionInformation, SessionState
from .values import checked_json_object

__all__ = [
    "DeviceSession",
    "RevocationCheck",
    "SessionEngine",
    "SessionInformation",
    "SessionPage",
    "SessionState",
    "check_tenant_id",
    "merge_payload",
]

#: Access tokens remembered as verified, per engine (so per app and per key set).
_VERIFIED_CACHE_SIZE = 4096


class SessionEngine(
    RefreshingEngine,
    SessionRecordsEngine,
    SessionListingEngine,
    IntrospectingEngine,
    SigningEngine,
):
    """Sessions of one app, kept in ``store``, under ``config``."""

    # -- creating ----------------------------------------------------------------

    def create_new_session(
        self,
        user_id: str,
        access_token_payload: Mapping[str, Any] | None,
        session_data_in_database: Mapping[str, Any] | None,
        tenant_id: str,
        *,
        now: int,
        ip: str | None = None,
        user_agent: str | None = None,
        disable_anti_csrf: bool = False,
        amr: Sequence[str] | None = None,
    ) -> SessionState:
        _check_user_id(user_id)
        check_tenant_id(tenant_id)
        payload = checked_json_object(access_token_payload or {}, "access_token_payload")
        check_custom_claims(payload, self.reserved_claims)
        check_payload_size(payload)
        if self.session_claims:
            # The login time (and how the user logged in): kept with the custom claims
            # so every refresh re-signs them as they are.
            payload["auth_time"] = now // 1000
            if amr is not None:
                payload["amr"] = check_amr(amr)
        elif amr is not None:
            raise ValueError("amr needs an engine with session claims (the embedded API)")
        data = checked_json_object(session_data_in_database or {}, "session_data_in_database")
        ip, user_agent = _clean_metadata(ip), _clean_metadata(user_agent)
        config = self.config
        handle = str(uuid.uuid4()) + ("" if tenant_id == "public" else f"_{tenant_id}")
        codec = self._refresh_codec(now)
        refresh = codec.mint(
            handle, anti_csrf=config.mints_anti_csrf_tokens and not disable_anti_csrf
        )
        session_end = self._session_end(now)
        expires_at = _cap(now + config.refresh_token_validity_ms, session_end)
        evicted = self._store_new_session(
            SessionRecord(
                session_handle=handle,
                tenant_id=tenant_id,
                user_id=user_id,
                refresh_token_hash=hash_twice(refresh.text),
                previous_refresh_token_hash=None,
                refresh_token_rotated_at=None,
                session_data=data,
                # The store's own copy: the returned session's payload is the caller's.
                access_token_payload=checked_json_object(payload, "access_token_payload"),
                created_at=now,
                expires_at=expires_at,
                last_refreshed_at=now,
                ip=ip,
                user_agent=user_agent,
                use_static_key=not config.use_dynamic_access_token_signing_key,
                last_active_at=now,
                last_ip=ip,
                last_user_agent=user_agent,
            )
        )
        anti_csrf = codec.anti_csrf_token(refresh)
        access = self._sign(
            user_id=user_id,
            tenant_id=tenant_id,
            session_handle=handle,
            refresh_token_hash1=hash_once(refresh.text),
            parent_refresh_token_hash1=None,
            anti_csrf_token=anti_csrf,
            custom_claims=payload,
            static=not config.use_dynamic_access_token_signing_key,
            now=now,
            expiry=_cap(now + config.access_token_validity_ms, session_end),
        )
        return SessionState(
            session_handle=handle,
            user_id=user_id,
            tenant_id=tenant_id,
            access_token=access,
            refresh_token=refresh.text,
            refresh_token_expiry=expires_at,
            anti_csrf_token=anti_csrf,
            access_token_updated=True,
            evicted_session_handles=evicted,
        )

    def _store_new_session(self, record: SessionRecord) -> tuple[str, ...]:
        """Insert ``record``, within its tenant's ``max_sessions_per_user`` when there is
        one (a plain insert when not); the sessions ended to make room."""
        settings = self.tenant_settings_of(record.tenant_id)
        if settings.max_sessions_per_user is None:
            self.store.create_session(record)
            return ()
        limit = SessionLimit(
            max_sessions=settings.max_sessions_per_user,
            evict_oldest=settings.evicts_oldest,
            active_since=self._active_since(record.tenant_id, record.created_at),
        )
        outcome = self.store.create_session_within_limit(record, limit)
        if not outcome.created:
            security_log.info(
                "login refused: user %s holds %d sessions in tenant %s (max_sessions_per_user %d)",
                record.user_id,
                outcome.live_sessions,
                record.tenant_id,
                limit.max_sessions,
            )
            raise SessionLimitReachedError(
                user_id=record.user_id,
                tenant_id=record.tenant_id,
                max_sessions=limit.max_sessions,
                live_sessions=outcome.live_sessions,
            )
        if outcome.evicted:
            security_log.info(
                "session limit: ended %d least recently active session(s) of user %s in "
                "tenant %s (max_sessions_per_user %d)",
                len(outcome.evicted),
                record.user_id,
                record.tenant_id,
                limit.max_sessions,
            )
        return tuple(outcome.evicted)

    # -- verifying ---------------------------------------------------------------

    def verify_access_token(
        self,
        access_token: str,
        anti_csrf_token: str | None,
        *,
        now: int,
        anti_csrf_check: bool | None = None,
        check_database: bool = False,
    ) -> SessionState:
        """Verify an access token. Local and read-only, unless the signing keys must be
        loaded or revocation asked of the store (``verification_reads_store`` says when).
        """
        payload, handle, activity_due = self._verified_payload(access_token, now)
        if self.config.mints_anti_csrf_tokens and anti_csrf_check is not False:
            expected = payload["antiCsrfToken"]
            if expected is None or not _same_secret(expected, anti_csrf_token):
                security_log.debug("anti-CSRF token missing or wrong")
                raise TryRefreshTokenError(reason="anti-CSRF token missing or wrong")
        if self.verification_needs_store(check_database):
            revoked = self.is_revoked(handle)
            if revoked:
                raise UnauthorisedError("session revoked or expired", reason="revoked (feed)")
            if revoked is None:
                stored = self.store.load_session(handle)
                if stored is None or not self._alive(stored, now):
                    raise UnauthorisedError("session revoked or expired", reason="not in database")
        access = AccessToken(access_token, payload, payload["exp"] * 1000, payload["iat"] * 1000)
        return SessionState(
            session_handle=handle,
            user_id=payload["sub"],
            tenant_id=payload["tId"],
            access_token=access,
            anti_csrf_token=payload["antiCsrfToken"],
            activity_due=activity_due,
        )

    def handle_of_access_token(self, access_token: str, *, now: int) -> str | None:
        """The session an access token of ours belongs to, expired or not; ``None`` for
        anything we did not sign. Reads the store only to load a signing key."""
        try:
            verified = verify_signed_token(
                access_token, self.keys.verification_key, now, check_expiry=False
            )
        except (UnauthorisedError, TryRefreshTokenError):
            return None
        handle: str = verified.payload["sessionHandle"]
        return handle

    def verification_reads_store(
        self, access_token: str, *, now: int, check_database: bool = False
    ) -> bool:
        """Whether ``verify_access_token`` would read the store for this token now: its
        signing key is not loaded yet, or its revocation cannot be answered from memory.

        Callers on an event loop ask first, and verify on a thread when this is true.
        A token verified before answers from the cache, without parsing."""
        cached = self._verified.get(access_token)
        if cached is not None and cached[1] >= now and self.keys.is_live(cached[0], now):
            handle: object = cached[2]
        else:
            try:
                parsed = jws.parse(access_token)
            except jws.MalformedToken:
                return False  # refused without the store
            self._parsed_for_verify = (access_token, parsed)
            kid = parsed.header.get("kid")
            if isinstance(kid, str) and self.keys.would_load(kid, now):
                return True
            handle = parsed.payload.get("sessionHandle")
        if not isinstance(handle, str) or not self.verification_needs_store(check_database):
            return False
        return self.is_revoked(handle) is None

    def _verified_payload(self, access_token: str, now: int) -> tuple[dict[str, Any], str, bool]:
        # A token that verified once verifies again while it and its key are live: the
        # signature check is skipped, expiry and key retirement are not. The payload is
        # decoded afresh each time (about 1 µs; a deep copy costs 7), so nothing a
        # caller does to one can reach the next. The session handle comes back as the
        # one string kept with the token: its hash is computed once, so looking it up
        # (the activity memo does) costs a third as much. Whether the session's activity
        # is worth a look rides on the same entry: one comparison per verification.
        cached = self._verified.get(access_token)
        if cached is not None:
            kid, expiry, handle, payload_json, decode, look_at = cached
            if expiry >= now and self.keys.is_live(kid, now):
                fresh: dict[str, Any] = decode(payload_json)
                every = self.activity_every_ms
                if every and now >= look_at[0]:
                    look_at[0] = now + every
                    return fresh, handle, True
                return fresh, handle, False
            self._verified.pop(access_token, None)
        hint, parsed = self._parsed_for_verify, None
        if hint is not None and hint[0] is access_token:
            self._parsed_for_verify, parsed = None, hint[1]
        try:
            verified = verify_signed_token(
                access_token, self.keys.verification_key, now, parsed=parsed
            )
        except (UnauthorisedError, TryRefreshTokenError) as exc:
            security_log.debug("access token rejected: %s", exc.reason)
            raise
        # Minting the token (a login, a refresh) recorded the session's activity: the
        # next look is due an interval after the token's issue time.
        every = self.activity_every_ms
        look_at = [verified.payload["iat"] * 1000 + every]
        due = bool(every) and now >= look_at[0]
        if due:
            look_at[0] = now + every
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude, but thread-safe and O(1) per token on average
        payload = verified.payload
        self._verified[access_token] = (
            verified.key.kid,
            payload["exp"] * 1000,
            payload["sessionHandle"],
            verified.payload_json,
            jws.fast_decoder(verified.payload_json),
            look_at,
        )
        return payload, payload["sessionHandle"], due

    def verification_needs_store(self, check_database: bool) -> bool:
        """Whether revocation must be checked (by the feed's deny set, or the store)."""
        return check_database or self.config.access_token_blacklisting

    def is_revoked(self, session_handle: str) -> bool | None:
        """The revocation feed's answer, ``None`` when there is none to trust."""
        revocations = self.revocations
        return None if revocations is None else revocations.is_revoked(session_handle)

    def payload_changed(self, session_handle: str) -> bool | None:
        """Whether the stored access-token payload changed lately, by the feed's log."""
        revocations = self.revocations
        return None if revocations is None else revocations.payload_changed(session_handle)
