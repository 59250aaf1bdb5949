"""The session functions of one ``Tessera`` object, for synchronous callers.

Each function reads the object's clock and calls the engine. The async facade,
``_async.py``, is generated from this file by ``scripts/generate_async.py``: each async
function runs the sync one of the same name on the object's worker threads. So change a
function here, or add one, then run the generator (``tests/test_facade_parity.py``
fails until ``_async.py`` is what it writes).

The async ``Session`` runs the methods of ``Session`` here with itself as ``self``, and
an async function given a session passes it to the function here: such code may use
only what ``SessionBase`` has, never a method of one colour. The generator checks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._session import SessionBase, refuse_missing_token
from .engine.sessions import SessionInformation, SessionPage
from .errors import TesseraError
from .metrics import VERIFY_MASK

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = ["Session", "SyncSessions"]


class Session(SessionBase):
    """A verified session, for synchronous code."""

    __module__ = "tessera.syncio"  # its public home
    __slots__ = ()

    def get_session_data_from_database(self) -> dict[str, Any]:
        """The session's data kept in the database (never sent to the client)."""
        return self._information().session_data_in_database

    def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        """Replace the session's data kept in the database."""
        self._update_data(data)

    def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        """Change the access token's custom claims now: this session gets a new access
        token (same expiry), and later tokens carry the change too.

        Only the keys in ``update`` change in the stored payload; claims changed
        elsewhere since this token was issued are kept, and show in the new token."""
        self._merge_payload(update)

    def revoke_session(self) -> None:
        """End the session: its refresh token stops working at once."""
        self._revoke()

    def revoke_other_sessions(self, revoke_across_all_tenants: bool = False) -> list[str]:
        """End the user's other sessions ("log out my other devices"), in this session's
        tenant or, with ``revoke_across_all_tenants``, in all; the handles ended."""
        return self._revoke_others(revoke_across_all_tenants)

    def mark_reauthenticated(self, amr: Sequence[str] | None = None) -> None:
        """Record that the user just proved who they are again (say, re-entered their
        password): ``auth_time`` becomes now, and ``amr`` is replaced when given. This
        session gets a new access token; a web adapter sends it with the response."""
        self._mark_reauthenticated(amr)

    def list_devices(
        self, limit: int = 20, cursor: str | None = None, across_all_tenants: bool = False
    ) -> SessionPage:
        """A page of this user's live sessions ("your devices"), most recently active
        first, this one marked ``current``; in this session's tenant, or in all. Pass
        the page's ``next_cursor`` back for the next page."""
        return self._list_devices(limit, cursor, across_all_tenants)

    def revoke_device(self, session_handle: str, across_all_tenants: bool = False) -> bool:
        """Log out one of this user's devices: end the session ``session_handle`` (say,
        from ``list_devices``) if it belongs to this user, in this tenant or, with
        ``across_all_tenants``, in any. False when it does not (or is gone). This
        session's own handle ends it like ``revoke_session``."""
        return self._revoke_device(session_handle, across_all_tenants)

    def get_expiry(self) -> int:
        """When the session ends unless refreshed, in milliseconds since the epoch."""
        return self._information().expiry

    def get_time_created(self) -> int:
        """When the session was created, in milliseconds since the epoch."""
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
        amr: Sequence[str] | None = None,
    ) -> Session:
        """Start a session for ``user_id``. ``access_token_payload`` holds custom claims
        sent in the access token; ``session_data_in_database`` stays on the server.

        The access token also carries ``auth_time`` (this login, in seconds) and, when
        given, ``amr`` (how the user logged in, such as ``["pwd"]``): a refresh keeps
        both, and only ``mark_reauthenticated`` changes them."""
        owner = self._owner
        owner.touch()
        observer, now = owner.observer, owner.now()
        started = observer.start()
        try:
            state = owner.engine.create_new_session(
                user_id,
                access_token_payload,
                session_data_in_database,
                tenant_id,
                now=now,
                ip=ip,
                user_agent=user_agent,
                disable_anti_csrf=disable_anti_csrf,
                amr=amr,
            )
        except TesseraError as exc:
            observer.create_failed(exc, now, ip, user_agent)
            raise
        observer.created(state, now, started, ip, user_agent)
        owner.activity_recorded(state.session_handle, now)
        return Session(state, owner)

    def get_session_without_request_response(
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
        if not access_token:
            refuse_missing_token(session_required)
            return None
        owner = self._owner
        verify, calls = owner.engine.verify_access_token, owner.verify_calls
        if calls is not None and not next(calls) & VERIFY_MASK:
            verify = owner.timing(verify)  # one call in VERIFY_SAMPLE
        now = owner.now()
        try:
            state = verify(
                access_token,
                anti_csrf_token,
                now=now,
                anti_csrf_check=anti_csrf_check,
                check_database=check_database,
            )
        except TesseraError as exc:
            if owner.metrics is not None:
                owner.metrics.verify_failed(exc)
            raise
        if state.activity_due:  # rarely: an interval after its issue or last look
            owner.note_activity(state.session_handle, now, ip, user_agent)
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
        """Rotate a refresh token: the session with its new access and refresh tokens.
        A refresh token used again after its successor raises ``TokenTheftError``."""
        owner = self._owner
        owner.touch()
        observer, now = owner.observer, owner.now()
        started = observer.start()
        try:
            state = owner.engine.refresh_session(
                refresh_token,
                anti_csrf_token,
                now=now,
                disable_anti_csrf=disable_anti_csrf,
                ip=ip,
                user_agent=user_agent,
            )
        except TesseraError as exc:
            observer.refresh_failed(exc, now, ip, user_agent)
            raise
        observer.refreshed(state, now, started, ip, user_agent)
        owner.activity_recorded(state.session_handle, now)
        return Session(state, owner)

    def revoke_session(self, session_handle: str) -> bool:
        """End one session; False when there was none by that handle."""
        return self._revoke_one(session_handle, "app")

    def _sign_out(self, session_handle: str) -> bool:
        # The sign-out API's revocation: the same, reported as the user's own.
        return self._revoke_one(session_handle, "sign_out")

    def _end_replaced_session(self, access_token: str, new_session_handle: str) -> bool:
        # A login on a client that still held a session: that session ends (its tokens
        # on this client are being replaced anyway), so it cannot be replayed.
        owner = self._owner
        handle = owner.engine.handle_of_access_token(access_token, now=owner.now())
        if handle is None or handle == new_session_handle:
            return False
        return self._revoke_one(handle, "replaced_by_login")

    def _revoke_one(self, session_handle: str, reason: str) -> bool:
        owner = self._owner
        started = owner.observer.start()
        ended = owner.engine.revoke_session(session_handle)
        owner.observer.revoked([session_handle] if ended else [], reason, owner.now(), started)
        return ended

    def revoke_multiple_sessions(self, session_handles: Sequence[str]) -> list[str]:
        """End several sessions; the handles of those that existed."""
        owner = self._owner
        started = owner.observer.start()
        ended = owner.engine.revoke_multiple_sessions(session_handles)
        owner.observer.revoked(ended, "app", owner.now(), started)
        return ended

    def revoke_all_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        revoke_across_all_tenants: bool | None = None,
    ) -> list[str]:
        """End every session of a user (in one tenant, or all); the handles ended."""
        owner = self._owner
        started, now = owner.observer.start(), owner.now()
        ended = owner.engine.revoke_all_sessions_for_user(
            user_id, tenant_id, revoke_across_all_tenants, now=now
        )
        owner.observer.revoked(ended, "app", now, started, user_id=user_id)
        return ended

    def revoke_other_sessions(
        self, session: Session, revoke_across_all_tenants: bool = False
    ) -> list[str]:
        """End every session of ``session``'s user but ``session`` itself, in its tenant
        or, with ``revoke_across_all_tenants``, in all; the handles ended."""
        return session._revoke_others(revoke_across_all_tenants)

    def mark_reauthenticated(self, session: Session, amr: Sequence[str] | None = None) -> None:
        """Record that ``session``'s user just proved who they are again: its
        ``auth_time`` becomes now (``amr`` replaced when given), and it gets a new access
        token carrying that."""
        session._mark_reauthenticated(amr)

    def get_all_session_handles_for_user(
        self,
        user_id: str,
        tenant_id: str | None = None,
        fetch_across_all_tenants: bool | None = None,
    ) -> list[str]:
        """The handles of a user's live sessions (in one tenant, or all)."""
        owner = self._owner
        return owner.engine.get_all_session_handles_for_user(
            user_id, tenant_id, fetch_across_all_tenants, now=owner.now()
        )

    def get_sessions_for_user(
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
        owner = self._owner
        return owner.engine.get_sessions_for_user(
            user_id, tenant_id, now=owner.now(), limit=limit, cursor=cursor, current=current
        )

    def get_session_information(self, session_handle: str) -> SessionInformation | None:
        """What the database holds about a live session; ``None`` when it is gone."""
        owner = self._owner
        return owner.engine.get_session_information(session_handle, now=owner.now())

    def update_session_data_in_database(self, session_handle: str, data: Mapping[str, Any]) -> bool:
        """Replace a session's data kept in the database; False when it is gone."""
        owner = self._owner
        return owner.engine.update_session_data_in_database(session_handle, data, now=owner.now())

    def merge_into_access_token_payload(
        self, session_handle: str, update: Mapping[str, Any]
    ) -> bool:
        """Change a session's custom claims for the tokens it gets from now on (a key set
        to ``None`` is removed); False when the session is gone."""
        owner = self._owner
        return owner.engine.merge_into_access_token_payload(session_handle, update, now=owner.now())

    def regenerate_access_token(
        self, access_token: str, new_payload: Mapping[str, Any] | None = None
    ) -> Session | None:
        """A new access token for the session of ``access_token`` (with ``new_payload``
        as its custom claims, if given); ``None`` when the session is gone."""
        owner = self._owner
        state = owner.engine.regenerate_access_token(access_token, new_payload, now=owner.now())
        return None if state is None else Session(state, owner)

    def get_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys that verify access tokens, as a JSON Web Key Set."""
        owner = self._owner
        return owner.engine.get_jwks(now=owner.now())

    def purge_expired(self) -> int:
        """Delete expired sessions now; how many went. (A background job also does it.)"""
        owner = self._owner
        return owner.engine.purge_expired(now=owner.now())
