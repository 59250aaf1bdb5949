"""Refreshing a session: rotating its refresh token (with theft detection), and the
SuperTokens core's confirmation of a refresh by the first use of its access token."""

from __future__ import annotations

import hmac

from ..errors import StorageError, TokenTheftError, UnauthorisedError
from . import jws
from ._base import EngineBase, _cap, _clean_metadata, _same_secret, security_log
from .access_token import PROTECTED_CLAIMS
from .refresh_token import hash_once, hash_twice
from .rotation import RefreshOutcome, decide_refresh
from .state import SessionState

__all__ = ["RefreshingEngine"]

#: How many times a refresh re-reads and re-decides after losing a compare-and-swap.
_ROTATION_ATTEMPTS = 4


class RefreshingEngine(EngineBase):
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
        if record is None or not self._alive(record, now):
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
        confirmed_by_first_use: bool = False,
    ) -> SessionState:
        """Rotate ``refresh_token`` (or hand out its successor again) and sign new tokens.

        The rotation is written pending and, by default, acknowledged once the tokens are
        in hand, so that afterwards the old token is covered by the grace period only.
        With ``confirmed_by_first_use`` (the core service, as the SuperTokens core does)
        no acknowledgement is written: the rotation stays pending until the new access
        token is first verified (``confirm_access_token``) or the new refresh token is
        used, and until then the old token gets the same new tokens again.
        """
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
            if record is not None and self._idle(record, now):
                security_log.info(
                    "refresh refused: session %s of user %s was idle for %d s, longer than "
                    "session_idle_timeout",
                    handle,
                    record.user_id,
                    (now - record.last_active_at) // 1000,
                )
                raise UnauthorisedError(
                    "session revoked or expired", reason="refresh: idle timeout"
                )
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
            if not confirmed_by_first_use and (
                outcome is RefreshOutcome.ROTATE or record.rotation_pending
            ):
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
