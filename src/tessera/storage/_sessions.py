"""The sessions table: one row per session, scoped by app.

The only write that races is the refresh-token rotation, so it is a single conditional
UPDATE (a compare-and-swap on the stored hash). The access-token payload is rewritten
under a row lock, so concurrent changes never lose each other's keys. Every delete
that ends live sessions writes them to the revocation log in the same transaction, so
no process can see one without the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from ._sql import SqlTables, batches, dumps, marks
from .base import PAYLOAD_CHANGED, SessionMatch, SessionRecord

__all__ = ["SqlSessions", "end_sessions"]

_COLUMNS = (
    "session_handle, tenant_id, user_id, refresh_token_hash, previous_refresh_token_hash, "
    "refresh_token_rotated_at, session_data, access_token_payload, created_at, expires_at, "
    "last_refreshed_at, ip, user_agent, use_static_key, rotation_pending, last_active_at, "
    "last_ip, last_user_agent"
)


class SqlSessions(SqlTables):
    def create_session(self, record: SessionRecord) -> None:
        row = _session_row(record)
        self._execute(
            f"INSERT INTO {self._sessions} (app_id, {_COLUMNS}) VALUES ({marks(len(row) + 1)})",
            (self.app_id, *row),
        )

    def load_session(self, session_handle: str) -> SessionRecord | None:
        rows = self._fetch(
            f"SELECT {_COLUMNS} FROM {self._sessions} WHERE app_id = ? AND session_handle = ?",
            (self.app_id, session_handle),
        )
        return _session_record(rows[0]) if rows else None

    def rotate_refresh_token(
        self,
        session_handle: str,
        *,
        expected_hash: str,
        new_hash: str,
        rotated_at: int,
        expires_at: int,
        ip: str | None,
        user_agent: str | None,
        use_static_key: bool,
        pending: bool = False,
    ) -> bool:
        changed = self._execute(
            f"UPDATE {self._sessions} SET refresh_token_hash = ?, previous_refresh_token_hash = ?, "
            "refresh_token_rotated_at = ?, last_refreshed_at = ?, expires_at = ?, "
            "last_active_at = ?, last_ip = COALESCE(?, last_ip), "
            "last_user_agent = COALESCE(?, last_user_agent), use_static_key = ?, "
            "rotation_pending = ? "
            "WHERE app_id = ? AND session_handle = ? AND refresh_token_hash = ?",
            (
                new_hash,
                expected_hash,
                rotated_at,
                rotated_at,
                expires_at,
                rotated_at,
                ip,
                user_agent,
                int(use_static_key),
                int(pending),
                self.app_id,
                session_handle,
                expected_hash,
            ),
        )
        return changed == 1

    def acknowledge_rotation(
        self, session_handle: str, *, new_hash: str, previous_hash: str, now: int
    ) -> bool:
        update = (
            f"UPDATE {self._sessions} SET rotation_pending = 0, refresh_token_rotated_at = ? "
            "WHERE app_id = ? AND session_handle = ? AND refresh_token_hash = ? "
            "AND previous_refresh_token_hash = ? AND rotation_pending = 1"
        )
        params = (now, self.app_id, session_handle, new_hash, previous_hash)
        lossy = self.dialect.lossy_commit_statement
        if lossy is None:
            return self._execute(update, params) == 1

        # An acknowledgement lost in a crash leaves the rotation pending, which only
        # keeps reissuing the same successor until it is used: its commit need not wait
        # for the disk, and a refresh then waits for one durable commit, not two.
        def work(cursor: Any) -> bool:
            cursor.execute(lossy)
            cursor.execute(self._sql(update), params)
            return int(cursor.rowcount) == 1

        return self._run_in_transaction(work)

    def replace_session_data(self, session_handle: str, data: dict[str, Any], now: int) -> bool:
        changed = self._execute(
            f"UPDATE {self._sessions} SET session_data = ? "
            "WHERE app_id = ? AND session_handle = ? AND expires_at >= ?",
            (dumps(data), self.app_id, session_handle, now),
        )
        return changed == 1

    def update_access_token_payload(
        self,
        session_handle: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        now: int,
    ) -> bool:
        select = self._sql(
            f"SELECT access_token_payload FROM {self._sessions} WHERE app_id = ? "
            f"AND session_handle = ? AND expires_at >= ?{self.dialect.row_lock_clause}"
        )
        update = self._sql(
            f"UPDATE {self._sessions} SET access_token_payload = ? "
            "WHERE app_id = ? AND session_handle = ?"
        )

        def work(cursor: Any) -> bool:
            cursor.execute(select, (self.app_id, session_handle, now))
            row = cursor.fetchone()
            if row is None:
                return False
            payload = dumps(change(json.loads(row[0])))
            cursor.execute(update, (payload, self.app_id, session_handle))
            self._log.write(cursor, self.app_id, [session_handle], PAYLOAD_CHANGED)
            return True

        return self._run_in_transaction(work)

    def delete_sessions(self, session_handles: Sequence[str]) -> list[str]:
        deleted: list[str] = []
        for chunk in batches(list(dict.fromkeys(session_handles))):
            deleted += self._end_where(f"session_handle IN ({marks(len(chunk))})", chunk)
        return deleted

    def delete_matching_sessions(self, match: SessionMatch, now: int) -> list[str]:
        return self._end_where(*_matching(match, now))

    def delete_matching_sessions_if_at_most(
        self, match: SessionMatch, now: int, at_most: int
    ) -> list[str] | None:
        where, params = _matching(match, now)

        def work(cursor: Any) -> list[str]:
            ended = end_sessions(self, cursor, self.app_id, where, params)
            if len(ended) > at_most:
                raise _TooMany  # rolls the deletes and their log rows back
            return ended

        try:
            return self._run_in_transaction(work)
        except _TooMany:
            return None

    def find_sessions(
        self, match: SessionMatch, now: int, *, limit: int, after: tuple[int, str] | None = None
    ) -> list[SessionRecord]:
        where, params = _matching(match, now)
        if after is not None:
            where += " AND (last_active_at < ? OR (last_active_at = ? AND session_handle < ?))"
            params += [after[0], after[0], after[1]]
        rows = self._fetch(
            f"SELECT {_COLUMNS} FROM {self._sessions} WHERE app_id = ? AND {where} "
            f"ORDER BY last_active_at DESC, session_handle DESC LIMIT {int(limit):d}",
            (self.app_id, *params),
        )
        return [_session_record(row) for row in rows]

    def count_sessions(self, match: SessionMatch, now: int) -> int:
        where, params = _matching(match, now)
        rows = self._fetch(
            f"SELECT COUNT(*) FROM {self._sessions} WHERE app_id = ? AND {where}",
            (self.app_id, *params),
        )
        return int(rows[0][0])

    def list_session_handles_for_user(
        self, user_id: str, tenant_id: str | None, now: int, *, active_since: int | None = None
    ) -> list[str]:
        match = SessionMatch(user_id=user_id, tenant_id=tenant_id, active_since=active_since)
        where, params = _matching(match, now)
        rows = self._fetch(
            f"SELECT session_handle FROM {self._sessions} WHERE app_id = ? AND {where} "
            "ORDER BY created_at, session_handle",
            (self.app_id, *params),
        )
        return [row[0] for row in rows]

    def purge_expired_sessions(self, now: int, limit: int) -> int:
        return self._execute(self.dialect.purge_statement(self._sessions), (now, limit))

    def count_live_sessions(self, now: int) -> dict[tuple[str, str], int]:
        """Unexpired sessions of every app, by (app, tenant): for the live-sessions gauge,
        which asks at most every few seconds, never per request."""
        rows = self._fetch(
            f"SELECT app_id, tenant_id, COUNT(*) FROM {self._sessions} WHERE expires_at >= ? "
            "GROUP BY app_id, tenant_id",
            (now,),
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    def _end_where(self, where: str, params: Sequence[Any]) -> list[str]:
        return self._run_in_transaction(
            lambda cursor: end_sessions(self, cursor, self.app_id, where, params)
        )


class _TooMany(Exception):
    """More sessions matched than the caller allowed: undo the transaction."""


def end_sessions(
    tables: SqlTables, cursor: Any, app_id: str, where: str, params: Sequence[Any]
) -> list[str]:
    """Delete ``app_id``'s sessions matching ``where`` and log them as revoked, in the
    transaction open on ``cursor``; return their handles. Every revocation comes here,
    so none escapes the log."""
    table, sql = tables._sessions, tables.dialect.sql
    if tables.dialect.has_delete_returning:
        cursor.execute(
            sql(f"DELETE FROM {table} WHERE app_id = ? AND {where} RETURNING session_handle"),
            (app_id, *params),
        )
        handles = [row[0] for row in cursor.fetchall()]
    else:
        cursor.execute(
            sql(
                f"SELECT session_handle FROM {table} WHERE app_id = ? AND {where}"
                f"{tables.dialect.row_lock_clause}"
            ),
            (app_id, *params),
        )
        handles = [row[0] for row in cursor.fetchall()]
        delete = f"DELETE FROM {table} WHERE app_id = ? AND session_handle IN"
        for chunk in batches(handles):
            cursor.execute(sql(f"{delete} ({marks(len(chunk))})"), (app_id, *chunk))
    return tables._log.write(cursor, app_id, handles)


def _matching(match: SessionMatch, now: int) -> tuple[str, list[Any]]:
    """The WHERE clause (after ``app_id = ?``) for the live sessions ``match`` selects."""
    where: list[str] = ["expires_at >= ?"]
    params: list[Any] = [now]
    for column, value in (("user_id", match.user_id), ("tenant_id", match.tenant_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if match.active_since is not None:
        where.append("last_active_at >= ?")
        params.append(match.active_since)
    if match.ip is not None:
        where.append("(ip = ? OR last_ip = ?)")
        params += [match.ip, match.ip]
    if match.user_agent is not None:
        # LOWER on both sides: MySQL/MariaDB tables compare binary, so case counts there.
        pattern = "%" + _escape_like(match.user_agent.lower()) + "%"
        where.append(
            "(LOWER(user_agent) LIKE ? ESCAPE '!' OR LOWER(last_user_agent) LIKE ? ESCAPE '!')"
        )
        params += [pattern, pattern]
    return " AND ".join(where), params


def _escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _session_row(r: SessionRecord) -> tuple[Any, ...]:
    return (
        r.session_handle,
        r.tenant_id,
        r.user_id,
        r.refresh_token_hash,
        r.previous_refresh_token_hash,
        r.refresh_token_rotated_at,
        dumps(r.session_data),
        dumps(r.access_token_payload),
        r.created_at,
        r.expires_at,
        r.last_refreshed_at,
        r.ip,
        r.user_agent,
        int(r.use_static_key),
        int(r.rotation_pending),
        r.last_active_at,
        r.last_ip,
        r.last_user_agent,
    )


def _session_record(row: Sequence[Any]) -> SessionRecord:
    return SessionRecord(
        session_handle=row[0],
        tenant_id=row[1],
        user_id=row[2],
        refresh_token_hash=row[3],
        previous_refresh_token_hash=row[4],
        refresh_token_rotated_at=None if row[5] is None else int(row[5]),
        session_data=json.loads(row[6]),
        access_token_payload=json.loads(row[7]),
        created_at=int(row[8]),
        expires_at=int(row[9]),
        last_refreshed_at=int(row[10]),
        ip=row[11],
        user_agent=row[12],
        use_static_key=bool(row[13]),
        rotation_pending=bool(row[14]),
        last_active_at=int(row[15]),
        last_ip=row[16],
        last_user_agent=row[17],
    )
