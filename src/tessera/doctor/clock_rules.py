"""Rules for clocks: the server's ``Date`` header and a fresh token's ``iat`` against this
machine's clock.

Checked names: ``clock.server``, ``clock.token``.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from .findings import Finding, Status
from .observed import Answer

__all__ = ["CLOCK_TOLERANCE", "check_server_clock", "check_token_clock", "server_clock_offset"]

#: Seconds of disagreement tolerated before warning (the frontend SDK itself starts
#: correcting for skew at 7 s).
CLOCK_TOLERANCE = 5.0

_WHY = (
    "Tokens carry the times they were issued and expire (iat, exp) by the clock of "
    "whatever signs them. The frontend SDK measures the difference from the front token "
    "and corrects for it, so one browser copes; but the browser reads cookie expiry dates "
    "by its own clock, and other services that verify these tokens with their own clocks "
    "see them as not yet valid, or expired early."
)
_FIX = (
    "Keep every server's clock synchronised (NTP: chrony or systemd-timesyncd), and check "
    "this machine's clock too."
)


def server_clock_offset(answer: Answer) -> float | None:
    """Seconds the server's clock is ahead (+) or behind (-) this machine's, from the
    ``Date`` header, or ``None`` without one. ``Date`` has whole seconds and the answer
    took time to arrive: any difference inside that window counts as 0."""
    raw = answer.header("date")
    if raw is None:
        return None
    try:
        stamp = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    # The server's time was somewhere in [stamp, stamp + 1) while this machine's was in
    # [sent_at, received_at].
    if stamp > answer.received_at:
        return stamp - answer.received_at
    if stamp + 1 < answer.sent_at:
        return (stamp + 1) - answer.sent_at
    return 0.0


def _ahead_or_behind(seconds: float) -> str:
    return f"{abs(seconds):.0f} s {'ahead of' if seconds > 0 else 'behind'}"


def check_server_clock(answer: Answer) -> Finding:
    offset = server_clock_offset(answer)
    if offset is None:
        return Finding("clock.server", Status.SKIP, "the server sends no (readable) Date header")
    if abs(offset) <= CLOCK_TOLERANCE:
        return Finding(
            "clock.server",
            Status.OK,
            f"the server's clock agrees with this machine's (within {CLOCK_TOLERANCE:.0f} s)",
        )
    return Finding(
        "clock.server",
        Status.WARN,
        f"the server's clock is {_ahead_or_behind(offset)} this machine's (Date header)",
        explanation=_WHY + " One of the two clocks is wrong.",
        fix=_FIX,
    )


def check_token_clock(
    issued_at: float | None, expires_at: float | None, answer: Answer, server_offset: float | None
) -> Finding:
    """A token that ``answer`` has just handed out: its ``iat`` should be about now."""
    if issued_at is None:
        return Finding("clock.token", Status.SKIP, "the access token shows no iat")
    if expires_at is not None and expires_at <= issued_at:
        return Finding(
            "clock.token",
            Status.FAIL,
            "the access token expires as soon as it is issued (exp <= iat)",
            explanation="Every call with it needs a refresh first.",
            fix="Check access_token_validity.",
        )
    # iat is whole seconds, taken while the request was served.
    if issued_at + 1 < answer.sent_at:
        skew = issued_at + 1 - answer.sent_at
    elif issued_at > answer.received_at:
        skew = issued_at - answer.received_at
    else:
        skew = 0.0
    if abs(skew) <= CLOCK_TOLERANCE:
        return Finding(
            "clock.token", Status.OK, "the access token's iat agrees with this machine's clock"
        )
    signer = ""
    if server_offset is not None and abs(server_offset - skew) > CLOCK_TOLERANCE:
        signer = (
            " The web server's own clock (its Date header) differs from the token's, so the "
            "tokens are signed elsewhere, by a session core whose clock is off."
        )
    return Finding(
        "clock.token",
        Status.WARN,
        f"the token signer's clock is {_ahead_or_behind(skew)} this machine's "
        "(the fresh access token's iat)",
        explanation=_WHY + signer,
        fix=_FIX,
    )
