"""Reading and changing stored sessions: revoking, listing, session data, the stored
access-token payload, and purging expired rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..storage.base import SessionMatch
from ._base import EngineBase, _check_handle, _tenant_scope, check_amr
from .access_token import (
    SESSION_CLAIMS,
    AccessToken,
    check_custom_claims,
    check_payload_size,
    merge_payload,
)
from .access_token import verify_access_token as verify_signed_token
from .state import SessionInformation, SessionState
from .values import check_text, checked_json_object

__all__ = ["SessionRecordsEngine"]


class SessionRecordsEngine(EngineBase):
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
        match = SessionMatch(user_id=check_text(user_id, "user_id"), tenant_id=scope)
        return self.store.delete_matching_sessions(match, now)

    def revoke_other_sessions(
        self,
        session_handle: str,
        user_id: str,
        tenant_id: str,
        revoke_across_all_tenants: bool,
        *,
        now: int,
    ) -> list[str]:
        """End the user's sessions other than ``session_handle``: those of ``tenant_id``,
        or of every tenant. Each goes through the ordinary delete, so the revocation
        log sees it. A session created while this runs is left alone."""
        keep = _check_handle(session_handle)
        scope = _tenant_scope(tenant_id, bool(revoke_across_all_tenants))
        handles = self.store.list_session_handles_for_user(
            check_text(user_id, "user_id"), scope, now
        )
        others = [h for h in handles if h != keep]
        return self.store.delete_sessions(others) if others else []

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
            # The app's claims; auth_time and amr are the session's (Session.get_auth_time).
            custom_claims_in_access_token_payload=self._app_claims(record.access_token_payload),
            expiry=record.expires_at,
            time_created=record.created_at,
            last_refreshed=record.last_refreshed_at,
            ip=record.ip,
            user_agent=record.user_agent,
            last_active=record.last_active_at,
            last_ip=record.last_ip,
            last_user_agent=record.last_user_agent,
        )

    def _app_claims(self, stored: dict[str, Any]) -> dict[str, Any]:
        if not self.session_claims:
            return stored
        return {k: v for k, v in stored.items() if k not in SESSION_CLAIMS}

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
        check_custom_claims(update, self.reserved_claims)
        record = self.store.load_session(_check_handle(session_handle))
        if record is None or not self._alive(record, now):
            return False

        def merged(current: dict[str, Any]) -> dict[str, Any]:
            payload = merge_payload(current, update)
            check_payload_size(payload)  # raised in the store's transaction: nothing changes
            return payload

        return self.store.update_access_token_payload(session_handle, merged, now)

    def mark_reauthenticated(
        self, session_handle: str, *, now: int, amr: Sequence[str] | None = None
    ) -> bool:
        """Record that the user proved who they are again just now: ``auth_time``
        becomes ``now`` (and ``amr`` is replaced, when given) in the stored payload, so
        the session's next access token carries it. False when the session is gone."""
        if not self.session_claims:
            raise ValueError("mark_reauthenticated needs an engine with session claims")
        change: dict[str, Any] = {"auth_time": now // 1000}
        if amr is not None:
            change["amr"] = check_amr(amr)
        record = self.store.load_session(_check_handle(session_handle))
        if record is None or not self._alive(record, now):
            return False
        return self.store.update_access_token_payload(
            session_handle, lambda current: {**current, **change}, now
        )

    def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None, *, now: int
    ) -> SessionState | None:
        """Sign a new access token for the same session and expiry, with ``new_payload``
        (stored for future tokens too) or the stored payload. ``None`` when the session
        is gone. An expired token gets its payload stored but no new token."""
        if new_payload is not None:
            new_payload = checked_json_object(new_payload, "the new access token payload")
            check_custom_claims(new_payload, self.reserved_claims)
            check_payload_size(new_payload)
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
            if self.session_claims:  # a new payload replaces the app's claims only
                kept = {k: v for k, v in record.access_token_payload.items() if k in SESSION_CLAIMS}
                custom = {**new_payload, **kept}

            def replace_claims(current: dict[str, Any]) -> dict[str, Any]:
                if not self.session_claims:
                    return custom
                return {**custom, **{k: v for k, v in current.items() if k in SESSION_CLAIMS}}

            if not self.store.update_access_token_payload(handle, replace_claims, now):
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

    def purge_expired(self, *, now: int, batch: int = 1000, max_batches: int = 100) -> int:
        """Delete expired sessions in bounded batches; return how many."""
        total = 0
        for _ in range(max_batches):
            deleted = self.store.purge_expired_sessions(now, batch)
            total += deleted
            if deleted < batch:
                break
        return total
