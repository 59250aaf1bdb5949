"""Session records for the storage tests, and the fixed time they are made at."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tessera.storage import SessionRecord

#: A fixed time (January 2027), in milliseconds since the epoch.
NOW = 1_800_000_000_000


def record(handle: str = "h1", **changes: Any) -> SessionRecord:
    """A live session of ``user-1`` in the public tenant, with ``changes`` applied."""
    base = SessionRecord(
        session_handle=handle,
        tenant_id="public",
        user_id="user-1",
        refresh_token_hash="hash-0",
        previous_refresh_token_hash=None,
        refresh_token_rotated_at=None,
        session_data={"cart": [1, 2], "name": "Zoë"},
        access_token_payload={"role": "admin"},
        created_at=NOW,
        expires_at=NOW + 60_000,
        last_refreshed_at=NOW,
        ip="203.0.113.9",
        user_agent="Mozilla/5.0",
        use_static_key=False,
        last_active_at=NOW,
    )
    return replace(base, **changes)
