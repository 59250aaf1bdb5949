"""What the sync and async session objects share: the state and its getters."""

from __future__ import annotations

from typing import Any, TypedDict

from .engine.front_token import build_front_token
from .engine.sessions import SessionState

__all__ = ["SessionBase", "SessionTokens"]


class SessionTokens(TypedDict):
    accessToken: str
    refreshToken: str | None
    antiCsrfToken: str | None
    frontToken: str
    accessAndFrontTokenUpdated: bool


class SessionBase:
    """A verified session. Getters read what the access token says and never block."""

    __slots__ = ()

    def _current(self) -> SessionState:
        raise NotImplementedError

    def get_user_id(self) -> str:
        return self._current().user_id

    def get_handle(self) -> str:
        return self._current().session_handle

    def get_tenant_id(self) -> str:
        return self._current().tenant_id

    def get_access_token_payload(self) -> dict[str, Any]:
        """Every claim of the current access token, the session's own included."""
        return dict(self._current().access_token_payload)

    def get_access_token(self) -> str:
        return self._current().access_token.token

    def get_access_token_expiry(self) -> int:
        """When the current access token expires, in milliseconds since the epoch."""
        return self._current().access_token.expiry

    def get_all_session_tokens_dangerously(self) -> SessionTokens:
        """The raw tokens, for code that must move them itself. Never log them."""
        state = self._current()
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
