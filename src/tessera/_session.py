"""What the sync and async session objects share: the state, its getters, and the
store operations they run (the async one on a thread)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypedDict

from .engine.front_token import build_front_token
from .engine.sessions import SessionInformation, SessionPage, SessionState
from .errors import UnauthorisedError

if TYPE_CHECKING:
    from ._tessera import Tessera

__all__ = ["SessionBase", "SessionTokens", "refuse_missing_token"]


class SessionTokens(TypedDict):
    accessToken: str
    refreshToken: str | None
    antiCsrfToken: str | None
    frontToken: str
    accessAndFrontTokenUpdated: bool


def refuse_missing_token(session_required: bool) -> None:
    """What verifying no access token means: no session, or an error when one is required."""
    if session_required:
        raise UnauthorisedError("no session", reason="no access token", clear_tokens=False)


def _gone() -> UnauthorisedError:
    return UnauthorisedError("session revoked or expired", reason="session gone")


class SessionBase:
    """A verified session. Getters read what the access token says and never block."""

    __slots__ = ("_owner", "_revoked", "_state")

    def __init__(self, state: SessionState, owner: Tessera) -> None:
        self._state = state
        self._owner = owner
        #: Set once ``revoke_session`` ran: a web adapter then clears the client's tokens.
        self._revoked = False

    def get_user_id(self) -> str:
        """The user this session belongs to."""
        return self._state.user_id

    def get_handle(self) -> str:
        """The session's handle: its stable name, for revoking it or looking it up."""
        return self._state.session_handle

    def get_tenant_id(self) -> str:
        """The tenant the session was created in."""
        return self._state.tenant_id

    def get_access_token_payload(self) -> dict[str, Any]:
        """Every claim of the current access token, the session's own included."""
        return dict(self._state.access_token_payload)

    def get_access_token(self) -> str:
        """The current access token (after a payload change, the new one)."""
        return self._state.access_token.token

    def get_access_token_expiry(self) -> int:
        """When the current access token expires, in milliseconds since the epoch."""
        return self._state.access_token.expiry

    def get_auth_time(self) -> int | None:
        """When the user last proved who they are (login, or ``mark_reauthenticated``),
        in seconds since the epoch; ``None`` for a session that does not record it."""
        value = self._state.access_token_payload.get("auth_time")
        return value if type(value) is int else None

    def get_all_session_tokens_dangerously(self) -> SessionTokens:
        """The raw tokens, for code that must move them itself. Never log them."""
        state = self._state
        return {
            "accessToken": state.access_token.token,
            "refreshToken": state.refresh_token,
            "antiCsrfToken": state.anti_csrf_token,
            "frontToken": build_front_token(
                state.user_id, state.access_token.expiry, state.access_token_payload
            ),
            "accessAndFrontTokenUpdated": state.access_token_updated,
        }

    def __repr__(self) -> str:
        return (
            f"<{type(self).__module__}.{type(self).__name__} handle={self.get_handle()!r} "
            f"user_id={self.get_user_id()!r} tenant_id={self.get_tenant_id()!r}>"
        )

    # -- the store operations, blocking; the async session runs them on a thread ------

    def _information(self) -> SessionInformation:
        owner = self._owner
        info = owner.engine.get_session_information(self.get_handle(), now=owner.now())
        if info is None:
            raise _gone()
        return info

    def _update_data(self, data: Mapping[str, Any]) -> None:
        owner = self._owner
        if not owner.engine.update_session_data_in_database(
            self.get_handle(), data, now=owner.now()
        ):
            raise _gone()

    def _merge_payload(self, update: Mapping[str, Any]) -> None:
        engine = self._owner.engine
        self._renew(
            lambda now: engine.merge_into_access_token_payload(self.get_handle(), update, now=now)
        )

    def _mark_reauthenticated(self, amr: Sequence[str] | None) -> None:
        engine = self._owner.engine
        self._renew(lambda now: engine.mark_reauthenticated(self.get_handle(), now=now, amr=amr))

    def _renew(self, change: Callable[[int], bool]) -> None:
        """Apply ``change`` to the stored session, then give this session a new access
        token (same expiry) carrying it; a web adapter sends it with the response."""
        owner = self._owner
        engine, now = owner.engine, owner.now()
        state = None
        if change(now):
            state = engine.regenerate_access_token(self.get_access_token(), None, now=now)
        if state is None:
            raise _gone()
        # The client keeps the refresh token it was just given, if any.
        self._state = replace(
            state,
            refresh_token=self._state.refresh_token,
            refresh_token_expiry=self._state.refresh_token_expiry,
            anti_csrf_token=self._state.anti_csrf_token,
        )

    def _revoke_others(self, revoke_across_all_tenants: bool) -> list[str]:
        owner = self._owner
        return owner.engine.revoke_other_sessions(
            self.get_handle(),
            self.get_user_id(),
            self.get_tenant_id(),
            revoke_across_all_tenants,
            now=owner.now(),
        )

    def _list_devices(
        self, limit: int, cursor: str | None, across_all_tenants: bool
    ) -> SessionPage:
        owner = self._owner
        return owner.engine.get_sessions_for_user(
            self.get_user_id(),
            None if across_all_tenants else self.get_tenant_id(),
            now=owner.now(),
            limit=limit,
            cursor=cursor,
            current=self.get_handle(),
        )

    def _revoke_device(self, session_handle: str, across_all_tenants: bool) -> bool:
        if session_handle == self.get_handle():
            self._revoke()  # this device: its tokens are cleared too
            return True
        owner = self._owner
        started = owner.observer.start()
        tenant = None if across_all_tenants else self.get_tenant_id()
        ended = owner.engine.revoke_session_of_user(session_handle, self.get_user_id(), tenant)
        owner.observer.revoked([session_handle] if ended else [], "sign_out", owner.now(), started)
        return ended

    def _revoke(self) -> None:
        self._owner.syncio._sign_out(self.get_handle())
        self._revoked = True
