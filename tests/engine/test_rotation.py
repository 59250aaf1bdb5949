"""The refresh decision table, exhaustively."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tessera.engine.rotation import RefreshOutcome, decide_refresh
from tessera.storage import SessionRecord

NOW = 1_000_000
GRACE = 30_000

BASE = SessionRecord(
    session_handle="h",
    tenant_id="public",
    user_id="u",
    refresh_token_hash="current",
    previous_refresh_token_hash="previous",
    refresh_token_rotated_at=NOW - 1000,
    session_data={},
    access_token_payload={},
    created_at=0,
    expires_at=NOW + 10**9,
    last_refreshed_at=0,
    ip=None,
    user_agent=None,
    use_static_key=False,
    last_active_at=0,
)

PENDING = replace(BASE, rotation_pending=True)


def decide(
    record: SessionRecord | None, presented: str, successor: str = "x", **kw: int | None
) -> RefreshOutcome:
    args: dict[str, int | None] = {"now": NOW, "grace_period_ms": GRACE, "session_end": None, **kw}
    return decide_refresh(record, presented_hash=presented, successor_hash=successor, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("record", "presented", "successor", "extra", "outcome"),
    [
        (None, "current", "x", {}, RefreshOutcome.UNAUTHORISED),
        (replace(BASE, expires_at=NOW - 1), "current", "x", {}, RefreshOutcome.UNAUTHORISED),
        (BASE, "current", "x", {"session_end": NOW}, RefreshOutcome.UNAUTHORISED),
        (BASE, "current", "x", {}, RefreshOutcome.ROTATE),
        (BASE, "previous", "current", {}, RefreshOutcome.REISSUE_SUCCESSOR),
        (BASE, "previous", "not-current", {}, RefreshOutcome.THEFT),
        (BASE, "previous", "current", {"now": NOW - 1000 + GRACE + 1}, RefreshOutcome.THEFT),
        (BASE, "previous", "current", {"grace_period_ms": 0}, RefreshOutcome.THEFT),
        (
            replace(BASE, previous_refresh_token_hash=None),
            "previous",
            "current",
            {},
            RefreshOutcome.THEFT,
        ),
        (BASE, "ancient", "x", {}, RefreshOutcome.THEFT),
        # A rotation still pending (its answer may have been lost): the replaced token
        # gets the same successor after the grace period too, and with no grace at all...
        (
            PENDING,
            "previous",
            "current",
            {"now": NOW + 10**8},
            RefreshOutcome.REISSUE_SUCCESSOR,
        ),
        (PENDING, "previous", "current", {"grace_period_ms": 0}, RefreshOutcome.REISSUE_SUCCESSOR),
        # ... but only while that successor is current and the token is its parent.
        (PENDING, "previous", "not-current", {"now": NOW + 10**8}, RefreshOutcome.THEFT),
        (PENDING, "ancient", "x", {}, RefreshOutcome.THEFT),
        (
            replace(PENDING, previous_refresh_token_hash="current"),
            "previous",
            "current",
            {},
            RefreshOutcome.THEFT,
        ),
        (
            replace(PENDING, expires_at=NOW - 1),
            "previous",
            "current",
            {},
            RefreshOutcome.UNAUTHORISED,
        ),
    ],
)
def test_refresh_decisions(
    record: SessionRecord | None,
    presented: str,
    successor: str,
    extra: dict[str, int],
    outcome: RefreshOutcome,
) -> None:
    assert decide(record, presented, successor, **extra) is outcome
