# Generated from _sync.py by scripts/generate_async.py; do not edit.
# Change _sync.py (or _async_loop.py), then run: .venv/bin/python scripts/generate_async.py
"""The session functions of one ``Tessera`` object, for async callers.

Each function runs the function of the same name in ``_sync.py`` on the ``Tessera``
object's worker threads, so a slow database never stalls the event loop; verifying an
access token stays on the event loop when the engine needs no store for it
(``_async_loop.py``). Signatures and docstrings are those of ``_sync.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._async_loop import verification_needs_no_store
from ._session import SessionBase
from ._sync import Session as SyncSession
from .engine.sessions import SessionInformation, SessionPage

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = ["AsyncSessions", "Session"]


class Session(SessionBase):
    """A verified session, for async code. Methods that reach the database are awaited."""

    __module__ = "tessera.asyncio"  # its public home
    __slots__ = ()

    async def get_session_data_from_database(self) -> dict[str, Any]:
        """The session's data kept in the database (never sent to the client)."""
        return await self._owner.in_thread(SyncSession.get_session_data_from_database, self)

    async def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        """Replace the session's data kept in the database."""
        await self._owner.in_thread(SyncSession.update_session_data_in_database, self, data)

    async def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        """Change the access token's custom claims now: this session gets a new access
        token (same expiry), and later tokens carry the change too.

        Only the keys in ``update`` change in the stored payload; claims changed
        elsewhere since this token was issued are kept, and show in the new token."""
        await self._owner.in_thread(SyncSession.merge_into_access_token_payload, self, update)

    async def revoke_session(self) -> None:
        """End the session: its refresh token stops working at once."""
        await self._owner.in_thread(SyncSession.revoke_session, self)

    async def revoke_other_sessions(self, revoke_across_all_tenants: bool = False) -> list[str]:
        """End the user's other sessions ("log out my other devices"), in this session's
        tenant or, with ``revoke_across_all_tenants``, in all; the handles ended."""
        return await self._owner.in_thread(
            SyncSession.revoke_other_sessions, self, revoke_across_all_tenants
        )

    async def mark_reauthenticated(self, amr: Sequence[str] | None = None) -> None:
        """Record that the user just proved who they are again (say, re-entered their
        password): ``auth_time`` becomes now, and ``amr`` is replaced when given. This
        session gets a new access token; a web adapter sends it with the response."""
        await self._owner.in_thread(SyncSession.mark_reauthenticated, self, amr)

    async def list_devices(
        self, limit: int = 20, cursor: str | None = None, across_all_tenants: bool = False
    ) -> SessionPage:
        """A page of this user's live sessions ("your devices"), most recently active
        first, this one marked ``current``; in this session's tenant, or in all. Pass
        the page's ``next_cursor`` back for the next page."""
        return await self._owner.in_thread(
            SyncSession.list_devices, self, limit, cursor, across_all_tenants
        )

    async def revoke_device(self, session_handle: str, across_all_tenants: bool = False) -> bool:
        """Log out one of this user's devices: end the session ``session_handle`` (say,
        from ``list_devices``) if it belongs to this user, in this tenant or, with
        ``across_all_tenants``, in any. False when it does not (or is gone). This
        session's own handle ends it like ``revoke_session``."""
        return await self._owner.in_thread(
            SyncSession.revoke_device, self, session_handle, across_all_tenants
        )

    async def get_expiry(self) -> int:
        """When the session ends unless refreshed, in milliseconds since the epoch."""
        return await self._owner.in_thread(SyncSession.get_expiry, self)

    async def get_time_created(self) -> int:
        """When the session was created, in milliseconds since the epoch."""
        return await self._owner.in_thread(SyncSession.get_time_created, self)


class AsyncSessions:
    """The session functions of one ``Tessera`` object, for async callers."""

    def __init__(self, owner: Tessera) -> None:
        self._owner = owner

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
        amr: Sequence[str] | None = None,
    ) -> Session:
        """Start a session for ``user_id``. ``access_token_payload`` holds custom claims
        sent in the access token; ``session_data_in_database`` stays on the server.

        The access token also carries ``auth_time`` (this login, in seconds) and, when
        given, ``amr`` (how the user logged in, such as ``["pwd"]``): a refresh keeps
        both, and only ``mark_reauthenticated`` changes them."""
        sync_session = await self._owner.in_thread(
            self._owner.syncio.create_new_session,
            user_id,
            access_token_payload,
            session_data_in_database,
            tenant_id,
            ip=ip,
            user_agent=user_agent,
            disable_anti_csrf=disable_anti_csrf,
            amr=amr,
        )
        return Session(sync_session._state, self._owner)

    async def get_session_without_request_response(
        self,
        access_token: str | None,
        anti_csrf_token: str | None = None,
        *,
        anti_csrf_check: bool | None = None,
        check_database: bool = False,
        session_required: bool = True,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session | None:
        """Verify an access token. ``None`` only when no token is given and
        ``session_required`` is false; a bad token always raises.

        ``ip`` and ``user_agent`` are the client's: the session's last activity (time,
        address, agent) is recorded from them at most once per
        ``activity_write_interval``, by a background thread."""
        if verification_needs_no_store(self._owner, access_token, check_database):
            sync_session = self._owner.syncio.get_session_without_request_response(
                access_token,
                anti_csrf_token,
                anti_csrf_check=anti_csrf_check,
                check_database=check_database,
                session_required=session_required,
                ip=ip,
                user_agent=user_agent,
            )
        else:
            sync_session = await self._owner.in_thread(
                self._owner.syncio.get_session_without_request_response,
                access_token,
                anti_csrf_token,
                anti_csrf_check=anti_csrf_check,
                check_database=check_database,
                session_required=session_required,
                ip=ip,
                user_agent=user_agent,
            )
        return None if sync_session is None else Session(sync_session._state, self._owner)

    async def refresh_session_without_request_response(
        self,
        refresh_token: str,
        anti_csrf_token: str | None = None,
        *,
        disable_anti_csrf: bool = False,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> Session:
        """Rotate a refresh token: the session with its new access and refresh tokens.
        A refresh token used again after its successor raises ``TokenTheftError``."""
        sync_session = await self._owner.in_thread(
            self._owner.syncio.refresh_session_without_request_response,
            refresh_token,
            anti_csrf_token,
            disable_anti_csrf=disable_anti_csrf,
            ip=ip,
            user_agent=user_agent,
        )
        return Session(sync_session._state, self._owner)

    async def revoke_session(self, session_handle: str) -> bool:
        """End one session; False when there was none by that handle."""
        return await self._owner.in_thread(self._owner.syncio.revoke_session, session_handle)

    async def _sign_out(self, session_handle: str) -> bool:
        return await self._owner.in_thread(self._owner.syncio._sign_out, session_handle)

    async def _end_replaced_session(self, access_token: str, new_session_handle: str) -> bool:
        return await self._owner.in_thread(
            self._owner.syncio._end_replaced_session, access_token, new_session_handle
        )

    async def revoke_multiple_sessions(self, session_handles: Sequence[str]) -> list[str]:
        """End several sessions; the handles of those that existed."""
        return await self._owner.in_thread(
            self._owner.syncio.revoke_multiple_sessions, session_handles
        )

    async def revoke_all_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        revoke_across_all_tenants: bool | None = None,
    ) -> list[str]:
        """End every session of a user (in one tenant, or all); the handles ended."""
        return await self._owner.in_thread(
            self._owner.syncio.revoke_all_sessions_for_user,
            user_id,
            tenant_id,
            revoke_across_all_tenants,
        )

    async def revoke_other_sessions(
        self, session: Session, revoke_across_all_tenants: bool = False
    ) -> list[str]:
        """End every session of ``session``'s user but ``session`` itself, in its tenant
        or, with ``revoke_across_all_tenants``, in all; the handles ended."""
        return await self._owner.in_thread(
            self._owner.syncio.revoke_other_sessions, session, revoke_across_all_tenants
        )

    async def mark_reauthenticated(
        self, session: Session, amr: Sequence[str] | None = None
    ) -> None:
        """Record that ``session``'s user just proved who they are again: its
        ``auth_time`` becomes now (``amr`` replaced when given), and it gets a new access
        token carrying that."""
        await self._owner.in_thread(self._owner.syncio.mark_reauthenticated, session, amr)

    async def get_all_session_handles_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        fetch_across_all_tenants: bool | None = None,
    ) -> list[str]:
        """The handles of a user's live sessions (in one tenant, or all)."""
        return await self._owner.in_thread(
            self._owner.syncio.get_all_session_handles_for_user,
            user_id,
            tenant_id,
            fetch_across_all_tenants,
        )

    async def get_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        *,
        limit: int = 20,
        cursor: str | None = None,
        current: str | None = None,
    ) -> SessionPage:
        """A page of a user's live sessions (in one tenant, or all when ``None``), each
        with its device, most recently active first: ``items`` and ``next_cursor``
        (``None`` on the last page; pass it back for the next). ``current`` is the handle
        of the session to mark as this device. A changed cursor is a ``ValueError``."""
        return await self._owner.in_thread(
            self._owner.syncio.get_sessions_for_user,
            user_id,
            tenant_id,
            limit=limit,
            cursor=cursor,
            current=current,
        )

    async def get_session_information(self, session_handle: str) -> SessionInformation | None:
        """What the database holds about a live session; ``None`` when it is gone."""
        return await self._owner.in_thread(
            self._owner.syncio.get_session_information, session_handle
        )

    async def update_session_data_in_database(
        self, session_handle: str, data: Mapping[str, Any]
    ) -> bool:
        """Replace a session's data kept in the database; False when it is gone."""
        return await self._owner.in_thread(
            self._owner.syncio.update_session_data_in_database, session_handle, data
        )

    async def merge_into_access_token_payload(
        self, session_handle: str, update: Mapping[str, Any]
    ) -> bool:
        """Change a session's custom claims for the tokens it gets from now on (a key set
        to ``None`` is removed); False when the session is gone."""
        return await self._owner.in_thread(
            self._owner.syncio.merge_into_access_token_payload, session_handle, update
        )

    async def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None = None
    ) -> Session | None:
        """A new access token for the session of ``access_token`` (with ``new_payload``
        as its custom claims, if given); ``None`` when the session is gone."""
        sync_session = await self._owner.in_thread(
            self._owner.syncio.regenerate_access_token, access_token, new_payload
        )
        return None if sync_session is None else Session(sync_session._state, self._owner)

    async def get_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys that verify access tokens, as a JSON Web Key Set."""
        return await self._owner.in_thread(self._owner.syncio.get_jwks)

    async def purge_expired(self) -> int:
        """Delete expired sessions now; how many went. (A background job also does it.)"""
        return await self._owner.in_thread(self._owner.syncio.purge_expired)
