"""The session object a route receives: tessera's session, plus the request it came with.

Its methods behave as the plain session's do; in addition, revoking it clears the
client's tokens, and changing its access-token payload sends the new token back, on
the response of the request that made the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import asyncio as async_api
from .. import syncio as sync_api
from .._session import SessionBase
from ..engine.sessions import SessionState
from .transport import TokenSource

__all__ = ["AsyncRequestSession", "SyncRequestSession", "Tracked"]


@dataclass
class Tracked:
    """A session the response must reflect, and the transfer method its tokens use."""

    session: sync_api.Session | async_api.Session
    method: TokenSource
    revoked: bool = False


class SyncRequestSession(SessionBase):
    """A verified session in a sync framework (Flask, Django)."""

    __slots__ = ("_entry", "_inner")

    def __init__(self, inner: sync_api.Session, entry: Tracked) -> None:
        self._inner = inner
        self._entry = entry

    def _current(self) -> SessionState:
        return self._inner._current()

    def get_session_data_from_database(self) -> dict[str, Any]:
        return self._inner.get_session_data_from_database()

    def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        self._inner.update_session_data_in_database(data)

    def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        self._inner.merge_into_access_token_payload(update)

    def revoke_session(self) -> None:
        """End the session in the database and clear the client's tokens."""
        self._inner.revoke_session()
        self._entry.revoked = True

    def get_expiry(self) -> int:
        return self._inner.get_expiry()

    def get_time_created(self) -> int:
        return self._inner.get_time_created()


class AsyncRequestSession(SessionBase):
    """A verified session in an async framework (Starlette, FastAPI, async Django)."""

    __slots__ = ("_entry", "_inner")

    def __init__(self, inner: async_api.Session, entry: Tracked) -> None:
        self._inner = inner
        self._entry = entry

    def _current(self) -> SessionState:
        return self._inner._current()

    async def get_session_data_from_database(self) -> dict[str, Any]:
        return await self._inner.get_session_data_from_database()

    async def update_session_data_in_database(self, data: Mapping[str, Any]) -> None:
        await self._inner.update_session_data_in_database(data)

    async def merge_into_access_token_payload(self, update: Mapping[str, Any]) -> None:
        await self._inner.merge_into_access_token_payload(update)

    async def revoke_session(self) -> None:
        """End the session in the database and clear the client's tokens."""
        await self._inner.revoke_session()
        self._entry.revoked = True

    async def get_expiry(self) -> int:
        return await self._inner.get_expiry()

    async def get_time_created(self) -> int:
        return await self._inner.get_time_created()
