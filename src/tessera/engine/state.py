"""What session operations hand back: a session's identity and tokens, or its stored facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .access_token import AccessToken

__all__ = ["SessionInformation", "SessionState"]


# Not frozen: a frozen dataclass costs ~3 µs more to build, on every verification.
@dataclass(slots=True, kw_only=True)
class SessionState:
    """What a session operation hands back: who, which session, and its tokens."""

    session_handle: str
    user_id: str
    tenant_id: str
    access_token: AccessToken
    #: Only after create and refresh: the client's new refresh token, and when it stops
    #: being accepted (milliseconds since the epoch; capped by ``session_max_lifetime``).
    refresh_token: str | None = None
    refresh_token_expiry: int | None = None
    anti_csrf_token: str | None = None
    #: True when the access token in this state is new and must reach the client.
    access_token_updated: bool = False

    @property
    def access_token_payload(self) -> dict[str, Any]:
        return self.access_token.payload


@dataclass(frozen=True, kw_only=True)
class SessionInformation:
    session_handle: str
    user_id: str
    tenant_id: str
    session_data_in_database: dict[str, Any]
    custom_claims_in_access_token_payload: dict[str, Any]
    #: Milliseconds since the epoch.
    expiry: int
    time_created: int
    last_refreshed: int
    #: Where and how the session was created.
    ip: str | None
    user_agent: str | None
    #: When the session was last seen in use, and from where (creation counts).
    last_active: int
    last_ip: str | None
    last_user_agent: str | None
