"""The revocation feed: access-token blacklisting without a database read per request.

Every revocation writes the revoked handles to a log in the same transaction that
deletes the sessions. Each process keeps a *deny set* (the handles revoked within the
access-token lifetime) current by reading that log, woken early by PostgreSQL
``NOTIFY`` or Redis pub/sub, and at least every poll interval. A blacklisting
verification then costs a set lookup, and falls back to the database read whenever the
deny set may be older than ``revocation_max_staleness``.
"""

from __future__ import annotations

from ._feed import REVOCATION_MARGIN_S, RevocationFeed, RevocationView
from ._stats import LAG_BUCKETS_MS, FeedState, FeedStats
from ._store import RevokingStore

__all__ = [
    "LAG_BUCKETS_MS",
    "REVOCATION_MARGIN_S",
    "FeedState",
    "FeedStats",
    "RevocationFeed",
    "RevocationView",
    "RevokingStore",
]
