"""What a presented refresh token means, given the session's stored state.

Pure decision, no I/O: the engine reads the row, asks here, and then writes with a
compare-and-swap. If the swap loses a race it reads again and asks again, so two
refreshes can never both rotate the same token.

A rotation is written *pending* and acknowledged once the engine holds the new tokens.
The token a pending rotation replaced gets the same successor again at any time, until
that successor is used: the write may have committed while its answer was lost, and
the client's retry is no theft. After the acknowledgement only the grace period covers it.
"""

from __future__ import annotations

import enum
import hmac

from ..storage.base import SessionRecord

__all__ = ["RefreshOutcome", "decide_refresh"]


class RefreshOutcome(enum.Enum):
    #: The session is gone or over: log in again.
    UNAUTHORISED = "unauthorised"
    #: The current token: replace it by its successor.
    ROTATE = "rotate"
    #: The token replaced moments ago, within the grace period, or by a rotation whose
    #: new tokens may never have left tessera (still pending, its successor unused):
    #: hand out the same successor again, change nothing.
    REISSUE_SUCCESSOR = "reissue_successor"
    #: A token replaced long ago (or one that was never current): theft.
    THEFT = "theft"


def decide_refresh(
    record: SessionRecord | None,
    *,
    presented_hash: str,
    successor_hash: str,
    now: int,
    grace_period_ms: int,
    session_end: int | None,
) -> RefreshOutcome:
    """``presented_hash`` and ``successor_hash`` are the stored-form hashes of the token
    presented and of the successor derived from it; ``session_end`` is the absolute
    end of the session, if it has one."""
    if record is None or record.expires_at < now:
        return RefreshOutcome.UNAUTHORISED
    if session_end is not None and session_end <= now:
        return RefreshOutcome.UNAUTHORISED
    if hmac.compare_digest(presented_hash, record.refresh_token_hash):
        return RefreshOutcome.ROTATE
    previous, rotated_at = record.previous_refresh_token_hash, record.refresh_token_rotated_at
    # The presented token's successor is current and unused: a refresh with it would
    # have replaced it, and the core's confirmation of its access token forgets
    # ``previous``. Then the presented token is a repeat of the last refresh.
    repeat = (
        previous is not None
        and hmac.compare_digest(presented_hash, previous)
        and hmac.compare_digest(successor_hash, record.refresh_token_hash)
    )
    within_grace = (
        grace_period_ms > 0 and rotated_at is not None and now - rotated_at <= grace_period_ms
    )
    if repeat and (within_grace or record.rotation_pending):
        return RefreshOutcome.REISSUE_SUCCESSOR
    return RefreshOutcome.THEFT
