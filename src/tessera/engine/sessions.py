"""The session engine: every session operation, over a store, at a given time.

No clock, no HTTP, no driver: callers pass ``now`` (milliseconds) and the engine talks
to the store through its narrow interface. The facades in ``tessera.syncio`` and
``tessera.asyncio`` read the clock and choose the thread.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..config import SessionConfig
from ..errors import StorageError, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from ..storage.base import SessionRecord, SessionStore
from . import jws
from .access_token import (
    PROTECTED_CLAIMS,
    AccessToken,
    check_custom_claims,
    merge_payload,
    sign_access_token,
)
from .access_token import verify_access_token as verify_signed_token
from .keyring import KeyRing
from .refresh_token import RefreshTokenCodec, hash_once, hash_twice
from .rotation import RefreshOutcome, decide_refresh
from .state import SessionInformation, SessionState
from .values import check_text, checked_json_object, is_clean_text

__all__ = [
    "SessionEngine",
    "SessionInformation",
    "SessionState",
    "check_tenant_id",
    "merge_payload",
]

security_log = logging.getLogger("tessera.security")

_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MAX_USER_ID = 128
#: How many times a refresh re-reads and re-decides after losing a compare-and-swap.
_ROTATION_ATTEMPTS = 4
#: Access tokens remembered as verified, per engine (so per app and per key set).
_VERIFIED_CACHE_SIZE = 4096


class RevocationCheck(Protocol):
    """Answers "is this session revoked?" from memory: True or False when the answer
    is current within the staleness bound, ``None`` when the store must be asked."""

    def is_revoked(self, session_handle: str) -> bool | None: ...

    def payload_changed(self, session_handle: str) -> bool | None: ...


class SessionEngine:
    """Sessions of one app, kept in ``store``, under ``config``."""

    def __init__(self, config: SessionConfig, store: SessionStore) -> None:
        self.config = config
        self.store = store
        #: Set by the outer layer when a revocation feed runs (``tessera.revocation``).
        self.revocations: RevocationCheck | None = None
        self.keys = KeyRing(config, store)
        self._codec: RefreshTokenCodec | None = None
        #: token -> (kid, expiry in ms, session handle, payload JSON, its parser): the
        #: JSON, not a dict, so each verification hands out a payload no caller shares.
        self._verified: dict[str, tuple[str, int, str, bytes, Callable[[bytes], Any]]] = {}
        self._codec_lock = threading.Lock()

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
    ) -> SessionState:
        _check_user_id(user_id)
        check_tenant_id(tenant_id)
        payload = checked_json_object(access_token_payload or {}, "access_token_payload")
        check_custom_claims(payload)
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
        self.store.create_session(
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
        )

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
        payload = self._verified_payload(access_token, now)
        if self.config.mints_anti_csrf_tokens and anti_csrf_check is not False:
            expected = payload["antiCsrfToken"]
            if expected is None or not _same_secret(expected, anti_csrf_token):
                security_log.debug("anti-CSRF token missing or wrong")
                raise TryRefreshTokenError(reason="anti-CSRF token missing or wrong")
        handle = payload["sessionHandle"]
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
        )

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
            kid = parsed.header.get("kid")
            if isinstance(kid, str) and self.keys.would_load(kid, now):
                return True
            handle = parsed.payload.get("sessionHandle")
        if not isinstance(handle, str) or not self.verification_needs_store(check_database):
            return False
        return self.is_revoked(handle) is None

    def _verified_payload(self, access_token: str, now: int) -> dict[str, Any]:
        # A token that verified once verifies again while it and its key are live: the
        # signature check is skipped, expiry and key retirement are not. The payload is
        # decoded afresh each time (about 1 µs; a deep copy costs 7), so nothing a
        # caller does to one can reach the next.
        cached = self._verified.get(access_token)
        if cached is not None:
            kid, expiry, _, payload_json, decode = cached
            if expiry >= now and self.keys.is_live(kid, now):
                fresh: dict[str, Any] = decode(payload_json)
                return fresh
            self._verified.pop(access_token, None)
        try:
            verified = verify_signed_token(access_token, self.keys.verification_key, now)
        except (UnauthorisedError, TryRefreshTokenError) as exc:
            security_log.debug("access token rejected: %s", exc.reason)
            raise
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude, but thread-safe and O(1) per token on average
        payload = verified.payload
        self._verified[access_token] = (
            verified.key.kid,
            payload["exp"] * 1000,
            payload["sessionHandle"],
            verified.payload_json,
            jws.fast_decoder(verified.payload_json),
        )
        return payload

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

    def confirm_access_token(
        self, state: SessionState, *, now: int, check_database: bool
    ) -> SessionState:
        """The SuperTokens core's verify step (CDI 5.4), after ``verify_access_token`` accepted
        ``state``; used by the core service.

        The first use of an access token issued by a refresh confirms that refresh: the
        refresh token it replaced stops being accepted at once (its grace period ends),
        and the client gets a new access token without the parent hash, so that later
        verifications stay local. With ``check_database``, a token whose own claims
        differ from the stored ones is also replaced. Returns ``state`` itself when
        nothing is minted; ``UnauthorisedError`` when the session is gone.
        """
        payload = state.access_token.payload
        parent = payload["parentRefreshTokenHash1"]
        if parent is None and not check_database:
            return state
        handle = state.session_handle
        record = self.store.load_session(handle)
        if record is None:
            raise UnauthorisedError("session revoked or expired", reason="not in database")
        claims = {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}
        changed = claims != record.access_token_payload
        if parent is None and not changed:
            return state
        current_hash = hash_once(payload["refreshTokenHash1"])
        is_current = hmac.compare_digest(current_hash, record.refresh_token_hash)
        session_end = self._session_end(record.created_at)
        if parent is not None and is_current and record.previous_refresh_token_hash != current_hash:
            # Forget the replaced token: a swap onto the same hash records the current
            # one as "previous", so the grace period no longer covers the old token.
            self.store.rotate_refresh_token(
                handle,
                expected_hash=current_hash,
                new_hash=current_hash,
                rotated_at=now,
                expires_at=_cap(now + self.config.refresh_token_validity_ms, session_end),
                ip=None,
                user_agent=None,
                use_static_key=record.use_static_key,
            )
        if not (is_current or changed):
            return state
        access = self._sign(
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            session_handle=handle,
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=None,
            anti_csrf_token=payload["antiCsrfToken"],
            custom_claims=record.access_token_payload,
            static=record.use_static_key,
            now=now,
            expiry=_cap(now + self.config.access_token_validity_ms, session_end),
        )
        return SessionState(
            session_handle=handle,
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            access_token=access,
            anti_csrf_token=payload["antiCsrfToken"],
            access_token_updated=True,
        )

    # -- refreshing --------------------------------------------------------------

    def refresh_session(
        self,
        refresh_token: str,
        anti_csrf_token: str | None,
        *,
        now: int,
        disable_anti_csrf: bool = False,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> SessionState:
        ip, user_agent = _clean_metadata(ip), _clean_metadata(user_agent)
        codec = self._refresh_codec(now)
        try:
            presented = codec.parse(refresh_token)
        except jws.MalformedToken as exc:
            security_log.debug("refresh token rejected: %s", exc)
            raise UnauthorisedError("invalid refresh token", reason=f"malformed: {exc}") from None
        if presented.anti_csrf and self.config.mints_anti_csrf_tokens and not disable_anti_csrf:
            expected = codec.anti_csrf_token(presented) or ""
            if not _same_secret(expected, anti_csrf_token):
                # A failed check proves nothing about the tokens (a cross-site request
                # carries the cookies but not the header): never clear them for it.
                raise UnauthorisedError(
                    "anti-CSRF token missing or wrong", reason="anti-csrf", clear_tokens=False
                )
        successor = codec.successor(presented)
        presented_hash, successor_hash = hash_twice(presented.text), hash_twice(successor.text)
        handle = presented.session_handle
        for _ in range(_ROTATION_ATTEMPTS):
            record = self.store.load_session(handle)
            session_end = self._session_end(record.created_at) if record else None
            outcome = decide_refresh(
                record,
                presented_hash=presented_hash,
                successor_hash=successor_hash,
                now=now,
                grace_period_ms=self.config.refresh_token_grace_period_ms,
                session_end=session_end,
            )
            if outcome is RefreshOutcome.UNAUTHORISED or record is None:
                raise UnauthorisedError(
                    "session revoked or expired", reason="refresh: no live session"
                )
            if outcome is RefreshOutcome.THEFT:
                revoke = self.config.revoke_session_on_token_theft
                if revoke:
                    # Revoke first: if the store fails here the caller sees StorageError,
                    # and the client keeps its tokens to try again.
                    self.store.delete_sessions([handle])
                security_log.warning(
                    "refresh token reuse: session %s of user %s %s",
                    handle,
                    record.user_id,
                    "revoked" if revoke else "reported, not revoked",
                )
                raise TokenTheftError(session_handle=handle, user_id=record.user_id, revoked=revoke)
            static = record.use_static_key
            # A reissued successor keeps the expiry stored when it was first handed out.
            refresh_expiry = record.expires_at
            if outcome is RefreshOutcome.ROTATE:
                static = not self.config.use_dynamic_access_token_signing_key
                refresh_expiry = _cap(now + self.config.refresh_token_validity_ms, session_end)
            # Sign before rotating: tokens that cannot be made must not replace the old.
            anti_csrf = codec.anti_csrf_token(successor)
            access = self._sign(
                user_id=record.user_id,
                tenant_id=record.tenant_id,
                session_handle=handle,
                refresh_token_hash1=hash_once(successor.text),
                parent_refresh_token_hash1=hash_once(presented.text),
                anti_csrf_token=anti_csrf,
                custom_claims=record.access_token_payload,
                static=static,
                now=now,
                expiry=_cap(now + self.config.access_token_validity_ms, session_end),
            )
            if outcome is RefreshOutcome.ROTATE:
                # Pending until acknowledged below: if the answer to this write is lost,
                # the client's retry with the old token is no theft (see decide_refresh).
                swapped = self.store.rotate_refresh_token(
                    handle,
                    expected_hash=presented_hash,
                    new_hash=successor_hash,
                    rotated_at=now,
                    expires_at=refresh_expiry,
                    ip=ip,
                    user_agent=user_agent,
                    use_static_key=static,
                    pending=True,
                )
                if not swapped:
                    continue  # someone rotated or revoked it meanwhile: look again
            if outcome is RefreshOutcome.ROTATE or record.rotation_pending:
                self._acknowledge_rotation(handle, successor_hash, presented_hash, now)
            return SessionState(
                session_handle=handle,
                user_id=record.user_id,
                tenant_id=record.tenant_id,
                access_token=access,
                refresh_token=successor.text,
                refresh_token_expiry=refresh_expiry,
                anti_csrf_token=anti_csrf,
                access_token_updated=True,
            )
        raise StorageError("refresh could not complete: the session kept changing under it")

    # -- revoking and listing ----------------------------------------------------

    def revoke_session(self, session_handle: str) -> bool:
        return bool(self.store.delete_sessions([_check_handle(session_handle)]))

    def revoke_multiple_sessions(self, session_handles: Sequence[str]) -> list[str]:
        if isinstance(session_handles, str):
            raise TypeError("revoke_multiple_sessions takes a list of session handles")
        return self.store.delete_sessions([_check_handle(h) for h in session_handles])

    def revoke_all_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None,
        revoke_across_all_tenants: bool | None,
        *,
        now: int,
    ) -> list[str]:
        scope = _tenant_scope(tenant_id, revoke_across_all_tenants)
        return self.store.delete_sessions_for_user(check_text(user_id, "user_id"), scope, now)

    def get_all_session_handles_for_user(
        self,
        user_id: str,
        tenant_id: str | None,
        fetch_across_all_tenants: bool | None,
        *,
        now: int,
    ) -> list[str]:
        scope = _tenant_scope(tenant_id, fetch_across_all_tenants)
        return self.store.list_session_handles_for_user(check_text(user_id, "user_id"), scope, now)

    # -- reading and changing a session ------------------------------------------

    def get_session_information(
        self, session_handle: str, *, now: int
    ) -> SessionInformation | None:
        record = self.store.load_session(_check_handle(session_handle))
        if record is None or not self._alive(record, now):
            return None
        return SessionInformation(
            session_handle=record.session_handle,
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            session_data_in_database=record.session_data,
            custom_claims_in_access_token_payload=record.access_token_payload,
            expiry=record.expires_at,
            time_created=record.created_at,
            last_refreshed=record.last_refreshed_at,
            ip=record.ip,
            user_agent=record.user_agent,
        )

    def update_session_data_in_database(
        self, session_handle: str, data: Mapping[str, Any], *, now: int
    ) -> bool:
        data = checked_json_object(data, "session data")
        return self.store.replace_session_data(_check_handle(session_handle), data, now)

    def merge_into_access_token_payload(
        self, session_handle: str, update: Mapping[str, Any], *, now: int
    ) -> bool:
        """Merge ``update`` into the stored payload (a ``None`` value removes a key). The
        change reaches the client with its next access token."""
        update = checked_json_object(update, "the access token payload update")
        check_custom_claims(update)
        record = self.store.load_session(_check_handle(session_handle))
        if record is None or not self._alive(record, now):
            return False
        return self.store.update_access_token_payload(
            session_handle, lambda current: merge_payload(current, update), now
        )

    def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None, *, now: int
    ) -> SessionState | None:
        """Sign a new access token for the same session and expiry, with ``new_payload``
        (stored for future tokens too) or the stored payload. ``None`` when the session
        is gone. An expired token gets its payload stored but no new token."""
        if new_payload is not None:
            new_payload = checked_json_object(new_payload, "the new access token payload")
            check_custom_claims(new_payload)
        payload = verify_signed_token(
            access_token, self.keys.verification_key, now, check_expiry=False
        ).payload
        handle = payload["sessionHandle"]
        record = self.store.load_session(handle)
        if record is None or not self._alive(record, now):
            return None
        custom = record.access_token_payload
        if new_payload is not None:
            custom = new_payload
            if not self.store.update_access_token_payload(handle, lambda _: custom, now):
                return None
        old = AccessToken(access_token, payload, payload["exp"] * 1000, payload["iat"] * 1000)
        if old.expiry < now:
            return SessionState(
                session_handle=handle,
                user_id=record.user_id,
                tenant_id=record.tenant_id,
                access_token=old,
            )
        access = self._sign(
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            session_handle=handle,
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
            anti_csrf_token=payload["antiCsrfToken"],
            custom_claims=custom,
            static=record.use_static_key,
            now=now,
            expiry=old.expiry,
        )
        return SessionState(
            session_handle=handle,
            user_id=record.user_id,
            tenant_id=record.tenant_id,
            access_token=access,
            anti_csrf_token=payload["antiCsrfToken"],
            access_token_updated=True,
        )

    def get_jwks(self, *, now: int) -> dict[str, list[dict[str, str]]]:
        return self.keys.jwks(now)

    def purge_expired(self, *, now: int, batch: int = 1000, max_batches: int = 100) -> int:
        """Delete expired sessions in bounded batches; return how many."""
        total = 0
        for _ in range(max_batches):
            deleted = self.store.purge_expired_sessions(now, batch)
            total += deleted
            if deleted < batch:
                break
        return total

    # -- internals ---------------------------------------------------------------

    def _acknowledge_rotation(self, handle: str, new_hash: str, old_hash: str, now: int) -> None:
        # The new tokens are in hand: from now the old token is covered by the grace
        # period only. If the store fails here, the rotation merely stays pending (the
        # old token stays accepted until the new one is used): the tokens still go out.
        try:
            self.store.acknowledge_rotation(
                handle, new_hash=new_hash, previous_hash=old_hash, now=now
            )
        except StorageError as exc:
            security_log.warning("refresh of session %s not acknowledged: %s", handle, exc)

    def _refresh_codec(self, now: int) -> RefreshTokenCodec:
        if self._codec is None:
            with self._codec_lock:
                if self._codec is None:
                    fresh = base64.b64encode(secrets.token_bytes(32)).decode()
                    stored = self.store.get_or_create_secret("refresh_token_key", fresh, now)
                    self._codec = RefreshTokenCodec(base64.b64decode(stored))
        return self._codec

    def _session_end(self, created_at: int) -> int | None:
        lifetime = self.config.session_max_lifetime_ms
        return None if lifetime is None else created_at + lifetime

    def _alive(self, record: SessionRecord, now: int) -> bool:
        return self._alive_between(record.created_at, record.expires_at, now)

    def _alive_between(self, created_at: int, expires_at: int, now: int) -> bool:
        end = self._session_end(created_at)
        return expires_at >= now and (end is None or end > now)

    def _sign(self, *, static: bool, now: int, **claims: Any) -> AccessToken:
        key = self.keys.signing_key(now, dynamic=not static)
        return sign_access_token(key=key, now=now, **claims)


def check_tenant_id(tenant_id: str) -> None:
    if not isinstance(tenant_id, str) or not _TENANT.fullmatch(tenant_id):
        raise ValueError(
            f"invalid tenant id {tenant_id!r}: use 1-64 characters from a-z, 0-9 and '-'"
        )


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
