"""Creating a session within a per-user limit, for the SQL store.

Counting a user's sessions and then inserting one is a race: two logins that count at
once both see room. So creations for one (app, tenant, user) take turns, each in one
transaction: SQLite lets one writer in at a time anyway; PostgreSQL and MySQL/MariaDB
take a named lock for that user around the transaction (``Dialect.owner_lock``), so
logins of other users never wait. Inside it: read the user's live sessions, least
recently active first; refuse, or insert and end those beyond the limit through
``end_sessions`` (so they reach the revocation log like any other revocation).

A deadlock with another kind of write (say, revoking all of the user's sessions at the
same moment) rolls the transaction back; it is tried again a bounded number of times.
"""

from __future__ import annotations

from typing import Any

from ..errors import StorageError
from ._sessions import _COLUMNS, _matching, _session_row, end_sessions
from ._sql import SqlTables, batches, marks
from .base import LimitedCreation, SessionLimit, SessionMatch, SessionRecord

__all__ = ["SqlSessionLimits"]

#: Tries of a creation whose transaction a deadlock rolled back.
_ATTEMPTS = 4


class SqlSessionLimits(SqlTables):
    def create_session_within_limit(
        self, record: SessionRecord, limit: SessionLimit
    ) -> LimitedCreation:
        if limit.max_sessions < 1:
            raise ValueError("a session limit allows at least one session")
        row = _session_row(record)  # TypeError for data JSON cannot hold, before any work
        insert = self._sql(
            f"INSERT INTO {self._sessions} (app_id, {_COLUMNS}) VALUES ({marks(len(row) + 1)})"
        )
        match = SessionMatch(
            user_id=record.user_id, tenant_id=record.tenant_id, active_since=limit.active_since
        )
        where, params = _matching(match, record.created_at)
        live = self._sql(
            f"SELECT session_handle FROM {self._sessions} WHERE app_id = ? AND {where} "
            "ORDER BY last_active_at, created_at, session_handle"
        )

        def work(cursor: Any) -> LimitedCreation:
            cursor.execute(live, (self.app_id, *params))
            handles = [found[0] for found in cursor.fetchall()]
            excess = len(handles) + 1 - limit.max_sessions
            if excess > 0 and not limit.evict_oldest:
                return LimitedCreation(created=False, live_sessions=len(handles), evicted=[])
            cursor.execute(insert, (self.app_id, *row))
            evicted: list[str] = []
            for chunk in batches(handles[: max(excess, 0)]):
                where = f"session_handle IN ({marks(len(chunk))})"
                ended = set(end_sessions(self, cursor, self.app_id, where, chunk))
                evicted += [handle for handle in chunk if handle in ended]
            return LimitedCreation(created=True, live_sessions=len(handles), evicted=evicted)

        owner = f"{self.prefix}\x00{self.app_id}\x00{record.tenant_id}\x00{record.user_id}"
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return self._run_in_transaction(work, owner=owner)
            except StorageError as exc:
                if attempt == _ATTEMPTS or not self.dialect.is_conflict(exc.__cause__):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
