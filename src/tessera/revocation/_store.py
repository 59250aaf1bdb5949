"""A store wrapper that tells the feed about revocations made through it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from ..storage.base import (
    AppStore,
    LimitedCreation,
    Removal,
    SessionLimit,
    SessionMatch,
    SessionRecord,
    SessionStore,
)
from ._feed import RevocationFeed

__all__ = ["RevokingStore"]


class RevokingStore:
    """Every other method is the wrapped store's own. After a delete commits, the
    handles enter this process's deny set at once and other processes are signalled
    (Redis); the log row written by the delete itself is what makes it durable."""

    def __init__(self, inner: SessionStore, feed: RevocationFeed) -> None:
        self._inner = inner
        self._feed = feed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def for_app(self, app_id: str) -> RevokingStore:
        return RevokingStore(self._inner.for_app(app_id), self._feed)

    def create_session_within_limit(
        self, record: SessionRecord, limit: SessionLimit
    ) -> LimitedCreation:
        creation = self._inner.create_session_within_limit(record, limit)
        self._feed.note_revoked(self._inner.app_id, creation.evicted)
        return creation

    def delete_sessions(self, session_handles: Sequence[str]) -> list[str]:
        deleted = self._inner.delete_sessions(session_handles)
        self._feed.note_revoked(self._inner.app_id, deleted)
        return deleted

    def delete_matching_sessions(self, match: SessionMatch, now: int) -> list[str]:
        deleted = self._inner.delete_matching_sessions(match, now)
        self._feed.note_revoked(self._inner.app_id, deleted)
        return deleted

    def delete_matching_sessions_if_at_most(
        self, match: SessionMatch, now: int, at_most: int
    ) -> list[str] | None:
        deleted = self._inner.delete_matching_sessions_if_at_most(match, now, at_most)
        if deleted:
            self._feed.note_revoked(self._inner.app_id, deleted)
        return deleted

    def delete_tenant(self, app_id: str, tenant_id: str | None) -> Removal:
        # Only the core's store has apps and tenants (it is an AppStore too).
        removal = cast(AppStore, self._inner).delete_tenant(app_id, tenant_id)
        self._feed.note_revoked(app_id, removal.revoked)
        return removal

    def update_access_token_payload(
        self,
        session_handle: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        now: int,
    ) -> bool:
        changed = self._inner.update_access_token_payload(session_handle, change, now)
        if changed:
            self._feed.note_payload_changed(self._inner.app_id, session_handle)
        return changed
