"""A user's sessions as a person sees them: one device per session, most recently
active first, a page at a time.

Pages follow on by a cursor, an opaque string naming the last session of the page
before (its last activity and handle) and the query it belongs to, under an HMAC with
a key kept in the store (one per app). A cursor that was changed, cut, or made for
another user's listing is a ``ValueError``, never a page of something else.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from ..devices import Device, describe_device
from ..storage.base import SessionMatch, SessionRecord
from ._base import EngineBase, _check_handle, _tenant_scope
from .values import check_text

__all__ = ["MAX_PAGE_SIZE", "DeviceSession", "SessionListingEngine", "SessionPage"]

#: The most sessions one page may hold.
MAX_PAGE_SIZE = 100
_CURSOR_SECRET = "page_cursor_key"
_TAG_BYTES = 12


@dataclass(frozen=True, kw_only=True)
class DeviceSession:
    """One live session of a user, seen as the device it runs on."""

    session_handle: str
    user_id: str
    tenant_id: str
    #: Milliseconds since the epoch: creation, last activity seen (creation, a refresh,
    #: or a verification, recorded at most once per ``activity_write_interval``), and
    #: when it ends unless refreshed.
    time_created: int
    last_active: int
    expiry: int
    #: Where and how it was created, and where and how it was last seen in use.
    ip: str | None
    user_agent: str | None
    last_ip: str | None
    last_user_agent: str | None
    #: The device, read from the last user agent seen.
    device: Device
    #: True for the session this listing was asked from ("this device").
    current: bool


@dataclass(frozen=True)
class SessionPage:
    """One page of a listing, and the cursor of the next (``None``: this is the last)."""

    items: list[DeviceSession]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        """The page as JSON-ready data (field names as in Python), for a route to return:
        ``{"items": [{"session_handle": ..., "device": {"label": ...}, ...}],
        "next_cursor": ...}``."""
        return asdict(self)


class SessionListingEngine(EngineBase):
    _cursor_key: bytes | None = None
    _cursor_lock = threading.Lock()

    def get_sessions_for_user(
        self,
        user_id: str,
        tenant_id: str | None,
        *,
        now: int,
        limit: int = 20,
        cursor: str | None = None,
        current: str | None = None,
    ) -> SessionPage:
        """The user's live sessions in ``tenant_id`` (``None``: every tenant), most
        recently active first, ``limit`` at a time; ``current`` names the session to mark.
        A page may hold fewer than ``limit`` even when more follow (sessions past
        ``session_max_lifetime`` or their idle timeout that are not purged yet are left
        out)."""
        check_text(user_id, "user_id")
        scope = _tenant_scope(tenant_id, None)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
        if current is not None:
            _check_handle(current)
        query = f"{user_id}\x00{scope or ''}"
        after = None if cursor is None else self._read_cursor(cursor, query, now)
        # Sessions past their idle timeout are over: in one tenant the database leaves
        # them out; across tenants (whose timeouts may differ) ``_alive`` does below.
        since = None if scope is None else self._active_since(scope, now)
        match = SessionMatch(user_id=user_id, tenant_id=scope, active_since=since)
        found = self.store.find_sessions(match, now, limit=limit + 1, after=after)
        page, more = found[:limit], len(found) > limit
        next_cursor = None
        if more:
            last = page[-1]
            next_cursor = self._make_cursor((last.last_active_at, last.session_handle), query, now)
        items = [_device_session(r, current) for r in page if self._alive(r, now)]
        return SessionPage(items, next_cursor)

    def revoke_session_of_user(
        self, session_handle: str, user_id: str, tenant_id: str | None
    ) -> bool:
        """End ``session_handle`` if it is one of ``user_id``'s sessions (in ``tenant_id``,
        unless ``None``): what a "log out this device" button may do with a handle that
        came back from the browser. False when it is not, or is gone."""
        handle = _check_handle(session_handle)
        record = self.store.load_session(handle)
        if (
            record is None
            or record.user_id != user_id
            or (tenant_id is not None and record.tenant_id != tenant_id)
        ):
            return False
        return bool(self.store.delete_sessions([handle]))

    # -- cursors ---------------------------------------------------------------------

    def _key(self, now: int) -> bytes:
        if self._cursor_key is None:
            with self._cursor_lock:
                if self._cursor_key is None:
                    # Kept like every app secret (sealed when key_encryption_keys are set).
                    self._cursor_key = self.stored_secret(_CURSOR_SECRET, now)
        return self._cursor_key

    def _tag(self, body: bytes, query: str, now: int) -> bytes:
        mac = hmac.new(self._key(now), query.encode("utf-8", "surrogatepass") + b"\x00", "sha256")
        mac.update(body)
        return mac.digest()[:_TAG_BYTES]

    def _make_cursor(self, position: tuple[int, str], query: str, now: int) -> str:
        body = json.dumps(list(position), separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._tag(body, query, now))}"

    def _read_cursor(self, cursor: str, query: str, now: int) -> tuple[int, str]:
        bad = ValueError("cursor is not one this listing handed out")
        if not isinstance(cursor, str) or len(cursor) > 1024 or not cursor.isascii():
            raise bad
        body_text, _, tag_text = cursor.partition(".")
        try:
            body, tag = _unb64(body_text), _unb64(tag_text)
        except ValueError:
            raise bad from None
        if not hmac.compare_digest(tag, self._tag(body, query, now)):
            raise bad
        active, handle = json.loads(body)  # ours: it verified
        return int(active), str(handle)


def _device_session(record: SessionRecord, current: str | None) -> DeviceSession:
    return DeviceSession(
        session_handle=record.session_handle,
        user_id=record.user_id,
        tenant_id=record.tenant_id,
        time_created=record.created_at,
        last_active=record.last_active_at,
        expiry=record.expires_at,
        ip=record.ip,
        user_agent=record.user_agent,
        last_ip=record.last_ip,
        last_user_agent=record.last_user_agent,
        device=describe_device(record.last_user_agent or record.user_agent),
        current=record.session_handle == current,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_CHARS for c in text):
        raise ValueError(text)
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise ValueError(text) from None


_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
