"""Session functions for synchronous code (Flask, Django, scripts).

The module-level functions use the default object set up by ``tessera.init()``;
``Tessera(...).syncio`` offers the same functions bound to one object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._session import SessionBase
from .engine.sessions import SessionInformation, SessionState, merge_payload
from .errors import UnauthorisedError

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = [
    "Session",
    "SyncSessions",
    "create_new_session",
    "get_all_session_handles_for_user",
    "get_jwks",
    "get_session_information",
    "get_session_without_request_response",
    "merge_into_access_token_payload",
    "purge_expired",
    "refresh_session_without_request_response",
    "regenerate_access_token",
    "revoke_all_sessions_for_user",
    "revoke_multiple_sessions",
    "revoke_session",
    "update_session_data_in_database",
]


class Session(SessionBase):
    """A verified session, for synchronous code."""

    __slots__ = ("_owner", "_state")

    def __init__(self, state: SessionState, owner: Tessera) -> None:
        self._state = state
        self._owner = owner

    def _current(self) -> SessionState:
        return self._state

    def _information(self) -> SessionInformation:
        owner = self._owner
        info = owner.engine.get_session_information(self.get_handle(), now=owner.now())
        if info is None:
            raise UnauthorisedError("session revoked or expired", reason="session gone")
        return info

    def get_session_data_from_database(self) -> dict[str, Any]:
        return self._information().session_data_in_database

    def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        owner = self._owner
        if not owner.engine.update_session_data_in_database(
            self.get_handle(), data, now=owner.now()
        ):
            raise UnauthorisedError("session revoked or expired", reason="session gone")

    def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        """Change the access token's custom claims now: this session gets a new access
        token (same expiry), and later tokens carry the change too."""
        owner = self._owner
        merged = merge_payload(self.get_access_token_payload(), update)
        state = owner.engine.regenerate_access_token(
            self.get_access_token(), merged, now=owner.now()
        )
        if state is None:
            raise UnauthorisedError("session revoked or expired", reason="session gone")
        # The client keeps the refresh token it was just given, if any.
        self._state = replace(
            state,
            refresh_token=self._state.refresh_token,
            refresh_token_expiry=self._state.refresh_token_expiry,
            anti_csrf_token=self._state.anti_csrf_token,
        )

    def revoke_session(self) -> None:
        self._owner.engine.revoke_session(self.get_handle())

    def get_expiry(self) -> int:
        """When the session ends unless refreshed, in milliseconds since the epoch."""
        return self._information().expiry

    def get_time_created(self) -> int:
        return self._information().time_created


class SyncSessions:
    """The session functions of one ``Tessera`` object, for synchronous callers."""

    def __init__(self, owner: Tessera) -> None:
        self._owner = owner

    def create_new_session(
        self,
        user_id: str,
        access_token_payload: Mapping[str, Any] | None = None,
        session_data_in_database: Mapping[str, Any] | None = None,
        tenant_id: str = "public",
        *,
        ip: str | None = None,
        user_agent: str | None = None,
        disable_anti_csrf: bool = False,
    ) -> Session:
        owner = self._owner
        owner.touch()
        state = owner.engine.create_new_session(
            user_id,
            access_token_payload,
            session_data_in_database,
            tenant_id,
            now=owner.now(),
            ip=ip,
            user_agent=user_agent,
            disable_anti_csrf=disable_anti_csrf,
        )
        return Session(state, owner)

    def get_session_without_request_response(
        self,
        access_token: str | None,
        anti_csrf_token: str | None = None,
        *,
        anti_csrf_check: bool | None = None,
        check_database: bool = False,
        session_required: bool = True,
    ) -> Session | None:
        """Verify an access token. ``None`` only when no token is given and
        ``session_required`` is false; a bad token always raises."""
        return self._get_session(
            access_token, anti_csrf_token, anti_csrf_check, check_database, session_required, True
        )

    def _get_session(
        self,
        access_token: str | None,
        anti_csrf_token: str | None,
        anti_csrf_check: bool | None,
        check_database: bool,
        session_required: bool,
        may_block: bool,
    ) -> Session | None:
        if not access_token:
            if session_required:
                raise UnauthorisedError("no session", reason="no access token", clear_tokens=False)
            return None
        owner = self._owner
        state = owner.engine.get_session(
            access_token,
            anti_csrf_token,
            now=owner.now(),
            anti_csrf_check=anti_csrf_check,
            check_database=check_database,
            may_block=may_block,
        )
        return Session(state, owner)

    def refresh_session_without_request_response(
        self,
        refresh_token: str,
        anti_csrf_token: str | None = None,
        *,
        disable_anti_csrf: bool = False,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session:
        owner = self._owner
        owner.touch()
        state = owner.engine.refresh_session(
            refresh_token,
            anti_csrf_token,
            now=owner.now(),
            disable_anti_csrf=disable_anti_csrf,
            ip=ip,
            user_agent=user_agent,
        )
        return Session(state, owner)

    def revoke_session(self, session_handle: str) -> bool:
        return self._owner.engine.revoke_session(session_handle)

    def revoke_multiple_sessions(self, session_handles: Sequence[str]) -> list[str]:
        return self._owner.engine.revoke_multiple_sessions(session_handles)

    def revoke_all_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        revoke_across_all_tenants: bool | None = None,
    ) -> list[str]:
        owner = self._owner
        return owner.engine.revoke_all_sessions_for_user(
            user_id, tenant_id, revoke_across_all_tenants, now=owner.now()
        )

    def get_all_session_handles_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        fetch_across_all_tenants: bool | None = None,
    ) -> list[str]:
        owner = self._owner
        return owner.engine.get_all_session_handles_for_user(
            user_id, tenant_id, fetch_across_all_tenants, now=owner.now()
        )

    def get_session_information(self, session_handle: str) -> SessionInformation | None:
        owner = self._owner
        return owner.engine.get_session_information(session_handle, now=owner.now())

    def update_session_data_in_database(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        owner = self._owner
        return owner.engine.update_session_data_in_database(session_handle, data, now=owner.now())

    def merge_into_access_token_payload(
        self, session_handle: str, update: Mapping[str, Any]
    ) -> bool:
        owner = self._owner
        return owner.engine.merge_into_access_token_payload(session_handle, update, now=owner.now())

    def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None = None
    ) -> Session | None:
        owner = self._owner
        state = owner.engine.regenerate_access_token(access_token, new_payload, now=owner.now())
        return None if state is None else Session(state, owner)

    def get_jwks(self) -> dict[str, list[dict[str, str]]]:
        owner = self._owner
        return owner.engine.get_jwks(now=owner.now())

    def purge_expired(self) -> int:
        owner = self._owner
        return owner.engine.purge_expired(now=owner.now())


def _default() -> SyncSessions:
    from . import get_default

    return get_default().syncio


def create_new_session(
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    disable_anti_csrf: bool = False,
) -> Session:
    return _default().create_new_session(
        user_id,
        access_token_payload,
        session_data_in_database,
        tenant_id,
        ip=ip,
        user_agent=user_agent,
        disable_anti_csrf=disable_anti_csrf,
    )


def get_session_without_request_response(
    access_token: str | None,
    anti_csrf_token: str | None = None,
    *,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    session_required: bool = True,
) -> Session | None:
    return _default().get_session_without_request_response(
        access_token,
        anti_csrf_token,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        session_required=session_required,
    )


def refresh_session_without_request_response(
    refresh_token: str,
    anti_csrf_token: str | None = None,
    *,
    disable_anti_csrf: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Session:
    return _default().refresh_session_without_request_response(
        refresh_token,
        anti_csrf_token,
        disable_anti_csrf=disable_anti_csrf,
        ip=ip,
        user_agent=user_agent,
    )


def revoke_session(session_handle: str) -> bool:
    return _default().revoke_session(session_handle)


def revoke_multiple_sessions(session_handles: Sequence[str]) -> list[str]:
    return _default().revoke_multiple_sessions(session_handles)


def revoke_all_sessions_for_user(
    user_id: str, tenant_id: str | None = None, revoke_across_all_tenants: bool | None = None
) -> list[str]:
    return _default().revoke_all_sessions_for_user(user_id, tenant_id, revoke_across_all_tenants)


def get_all_session_handles_for_user(
    user_id: str, tenant_id: str | None = None, fetch_across_all_tenants: bool | None = None
) -> list[str]:
    return _default().get_all_session_handles_for_user(user_id, tenant_id, fetch_across_all_tenants)


def get_session_information(session_handle: str) -> SessionInformation | None:
    return _default().get_session_information(session_handle)


def update_session_data_in_database(session_handle: str, data: Mapping[str, Any]) -> bool:
    return _default().update_session_data_in_database(session_handle, data)


def merge_into_access_token_payload(session_handle: str, update: Mapping[str, Any]) -> bool:
    return _default().merge_into_access_token_payload(session_handle, update)


def regenerate_access_token(
    access_token: str, new_payload: Mapping[str, Any] | None = None
) -> Session | None:
    return _default().regenerate_access_token(access_token, new_payload)


def get_jwks() -> dict[str, list[dict[str, str]]]:
    return _default().get_jwks()


def purge_expired() -> int:
    return _default().purge_expired()
