"""Session functions for async code (FastAPI, Starlette, any asyncio app).

Same names, arguments and results as ``tessera.syncio``. Verifying an access token
without a database check runs on the event loop (it is a signature check and a few
dictionary reads); anything that touches the database runs on the ``Tessera`` object's
own threads, so a slow database never stalls the loop. The sync functions do the work;
this module only chooses where they run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import syncio
from ._session import SessionBase
from .engine.keyring import KeysNeedLoading
from .engine.sessions import SessionInformation, SessionState

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = [
    "AsyncSessions",
    "Session",
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
    """A verified session, for async code. Methods that reach the database are awaited."""

    __slots__ = ("_owner", "_sync")

    def __init__(self, sync_session: syncio.Session, owner: Tessera) -> None:
        self._sync = sync_session
        self._owner = owner

    def _current(self) -> SessionState:
        return self._sync._current()

    async def get_session_data_from_database(self) -> dict[str, Any]:
        return await self._owner.in_thread(self._sync.get_session_data_from_database)

    async def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        await self._owner.in_thread(self._sync.update_session_data_in_database, data)

    async def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        await self._owner.in_thread(self._sync.merge_into_access_token_payload, update)

    async def revoke_session(self) -> None:
        await self._owner.in_thread(self._sync.revoke_session)

    async def get_expiry(self) -> int:
        return await self._owner.in_thread(self._sync.get_expiry)

    async def get_time_created(self) -> int:
        return await self._owner.in_thread(self._sync.get_time_created)


class AsyncSessions:
    """The session functions of one ``Tessera`` object, for async callers."""

    def __init__(self, owner: Tessera) -> None:
        self._owner = owner
        self._sync = owner.syncio

    def _wrap(self, session: syncio.Session) -> Session:
        return Session(session, self._owner)

    async def create_new_session(
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
        session = await self._owner.in_thread(
            self._sync.create_new_session,
            user_id,
            access_token_payload,
            session_data_in_database,
            tenant_id,
            ip=ip,
            user_agent=user_agent,
            disable_anti_csrf=disable_anti_csrf,
        )
        return self._wrap(session)

    async def get_session_without_request_response(
        self,
        access_token: str | None,
        anti_csrf_token: str | None = None,
        *,
        anti_csrf_check: bool | None = None,
        check_database: bool = False,
        session_required: bool = True,
    ) -> Session | None:
        args = (access_token, anti_csrf_token, anti_csrf_check, check_database, session_required)
        # On the event loop first: it answers unless keys must be loaded or the revocation
        # feed cannot vouch for the session (KeysNeedLoading), then on a thread.
        try:
            session = self._sync._get_session(*args, False)
        except KeysNeedLoading:
            pass
        else:
            return None if session is None else self._wrap(session)
        session = await self._owner.in_thread(self._sync._get_session, *args, True)
        return None if session is None else self._wrap(session)

    async def refresh_session_without_request_response(
        self,
        refresh_token: str,
        anti_csrf_token: str | None = None,
        *,
        disable_anti_csrf: bool = False,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session:
        session = await self._owner.in_thread(
            self._sync.refresh_session_without_request_response,
            refresh_token,
            anti_csrf_token,
            disable_anti_csrf=disable_anti_csrf,
            ip=ip,
            user_agent=user_agent,
        )
        return self._wrap(session)

    async def revoke_session(self, session_handle: str) -> bool:
        return await self._owner.in_thread(self._sync.revoke_session, session_handle)

    async def revoke_multiple_sessions(self, session_handles: Sequence[str]) -> list[str]:
        return await self._owner.in_thread(self._sync.revoke_multiple_sessions, session_handles)

    async def revoke_all_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        revoke_across_all_tenants: bool | None = None,
    ) -> list[str]:
        return await self._owner.in_thread(
            self._sync.revoke_all_sessions_for_user, user_id, tenant_id, revoke_across_all_tenants
        )

    async def get_all_session_handles_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        fetch_across_all_tenants: bool | None = None,
    ) -> list[str]:
        return await self._owner.in_thread(
            self._sync.get_all_session_handles_for_user,
            user_id,
            tenant_id,
            fetch_across_all_tenants,
        )

    async def get_session_information(self, session_handle: str) -> SessionInformation | None:
        return await self._owner.in_thread(self._sync.get_session_information, session_handle)

    async def update_session_data_in_database(
        self, session_handle: str, data: Mapping[str, Any]
    ) -> bool:
        return await self._owner.in_thread(
            self._sync.update_session_data_in_database, session_handle, data
        )

    async def merge_into_access_token_payload(
        self, session_handle: str, update: Mapping[str, Any]
    ) -> bool:
        return await self._owner.in_thread(
            self._sync.merge_into_access_token_payload, session_handle, update
        )

    async def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None = None
    ) -> Session | None:
        session = await self._owner.in_thread(
            self._sync.regenerate_access_token, access_token, new_payload
        )
        return None if session is None else self._wrap(session)

    async def get_jwks(self) -> dict[str, list[dict[str, str]]]:
        return await self._owner.in_thread(self._sync.get_jwks)

    async def purge_expired(self) -> int:
        return await self._owner.in_thread(self._sync.purge_expired)


def _default() -> AsyncSessions:
    from . import get_default

    return get_default().asyncio


async def create_new_session(
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    disable_anti_csrf: bool = False,
) -> Session:
    return await _default().create_new_session(
        user_id,
        access_token_payload,
        session_data_in_database,
        tenant_id,
        ip=ip,
        user_agent=user_agent,
        disable_anti_csrf=disable_anti_csrf,
    )


async def get_session_without_request_response(
    access_token: str | None,
    anti_csrf_token: str | None = None,
    *,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    session_required: bool = True,
) -> Session | None:
    return await _default().get_session_without_request_response(
        access_token,
        anti_csrf_token,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        session_required=session_required,
    )


async def refresh_session_without_request_response(
    refresh_token: str,
    anti_csrf_token: str | None = None,
    *,
    disable_anti_csrf: bool = False,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Session:
    return await _default().refresh_session_without_request_response(
        refresh_token,
        anti_csrf_token,
        disable_anti_csrf=disable_anti_csrf,
        ip=ip,
        user_agent=user_agent,
    )


async def revoke_session(session_handle: str) -> bool:
    return await _default().revoke_session(session_handle)


async def revoke_multiple_sessions(session_handles: Sequence[str]) -> list[str]:
    return await _default().revoke_multiple_sessions(session_handles)


async def revoke_all_sessions_for_user(
    user_id: str, tenant_id: str | None = None, revoke_across_all_tenants: bool | None = None
) -> list[str]:
    return await _default().revoke_all_sessions_for_user(
        user_id, tenant_id, revoke_across_all_tenants
    )


async def get_all_session_handles_for_user(
    user_id: str, tenant_id: str | None = None, fetch_across_all_tenants: bool | None = None
) -> list[str]:
    return await _default().get_all_session_handles_for_user(
        user_id, tenant_id, fetch_across_all_tenants
    )


async def get_session_information(session_handle: str) -> SessionInformation | None:
    return await _default().get_session_information(session_handle)


async def update_session_data_in_database(session_handle: str, data: Mapping[str, Any]) -> bool:
    return await _default().update_session_data_in_database(session_handle, data)


async def merge_into_access_token_payload(session_handle: str, update: Mapping[str, Any]) -> bool:
    return await _default().merge_into_access_token_payload(session_handle, update)


async def regenerate_access_token(
    access_token: str, new_payload: Mapping[str, Any] | None = None
) -> Session | None:
    return await _default().regenerate_access_token(access_token, new_payload)


async def get_jwks() -> dict[str, list[dict[str, str]]]:
    return await _default().get_jwks()


async def purge_expired() -> int:
    return await _default().purge_expired()
