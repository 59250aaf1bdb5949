"""The revocation log's statements, for the SQL store.

One row per revoked session (or changed access-token payload), numbered by the
database and stamped by its clock. Rows are written inside the store's own
transactions, by the statement that deletes the sessions or changes the payload, so
no process can see one without the other; the revocation feed reads them by number
(``tessera.revocation``) through the store's ``read_revocations``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._sql import SqlTables, batches
from .base import REVOKED, RevocationRecord

if TYPE_CHECKING:
    from ._dialect import Dialect

__all__ = ["RevocationLog", "SqlRevocations"]


class RevocationLog:
    """The log table of one store (``{prefix}revocations``). Each method runs on a
    cursor the store hands it, inside whatever transaction the store has open."""

    def __init__(self, dialect: Dialect, prefix: str) -> None:
        self._dialect = dialect
        self._table = f"{prefix}revocations"
        #: The name revocation signals use (PostgreSQL channel, Redis channel).
        self.channel = f"{prefix}revocations"

    def write(self, cursor: Any, app_id: str, handles: list[str], kind: int = REVOKED) -> list[str]:
        """Log ``handles`` of ``app_id`` as ``kind``; return them. Call inside the
        transaction that revoked them (or changed their payload)."""
        if not handles:
            return handles
        stamp = self._dialect.now_ms_sql
        for chunk in batches(handles):
            rows = ", ".join([f"(?, ?, {stamp}, {kind:d})"] * len(chunk))
            cursor.execute(
                self._dialect.sql(
                    f"INSERT INTO {self._table} (app_id, session_handle, revoked_at, kind) "
                    f"VALUES {rows}"
                ),
                [value for handle in chunk for value in (app_id, handle)],
            )
        notify = self._dialect.notify_statement(self.channel)
        if notify is not None:
            cursor.execute(notify)  # delivered at commit, atomically with it
        return handles

    def read(
        self, cursor: Any, after_seq: int, also_seqs: Sequence[int], limit: int
    ) -> list[RevocationRecord]:
        """Rows of every app with ``seq > after_seq`` or ``seq`` in ``also_seqs``."""
        where, params = "seq > ?", [after_seq]
        if also_seqs:
            where += f" OR seq IN ({', '.join('?' * len(also_seqs))})"
            params += [int(seq) for seq in also_seqs]
        cursor.execute(
            self._dialect.sql(
                f"SELECT seq, app_id, session_handle, revoked_at, kind FROM {self._table} "
                f"WHERE {where} ORDER BY seq LIMIT ?"
            ),
            (*params, limit),
        )
        return [
            RevocationRecord(int(r[0]), r[1], r[2], int(r[3]), int(r[4])) for r in cursor.fetchall()
        ]

    def purge(self, cursor: Any, keep_ms: int) -> int:
        """Delete rows older than ``keep_ms`` by the database's clock; return how many."""
        cursor.execute(
            self._dialect.sql(
                f"DELETE FROM {self._table} WHERE revoked_at < {self._dialect.now_ms_sql} - ?"
            ),
            (keep_ms,),
        )
        return int(cursor.rowcount)


class SqlRevocations(SqlTables):
    """The store's methods over the log, of every app (read by the revocation feed)."""

    def read_revocations(
        self, after_seq: int, also_seqs: Sequence[int], limit: int
    ) -> list[RevocationRecord]:
        return self._run(lambda cursor: self._log.read(cursor, after_seq, also_seqs, limit))

    def purge_revocations(self, keep_ms: int) -> int:
        return self._run(lambda cursor: self._log.purge(cursor, keep_ms))
