"""The plumbing every part of the SQL store shares: one place that runs statements.

``SqlStore`` (``_store``) is assembled from one class per concept: the sessions
(``_sessions``), signing keys and secrets (``_keys``), apps and tenants (``_tenants``)
and the revocation log (``_revocation_log``). Each is a ``SqlTables``, so each runs its
statements the same way: on a pooled connection (which bounds every wait and retries a
broken one, see ``_pool``), written with ``?`` placeholders that the ``Dialect``
translates, and inside an explicit transaction when a write takes more than one
statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._dialect import Dialect
    from ._pool import ConnectionPool
    from ._revocation_log import RevocationLog

__all__ = ["SqlTables", "batches", "dumps", "marks"]

T = TypeVar("T")

#: Most ids in one ``IN (…)`` list: every database accepts this many placeholders.
_BATCH = 500


class SqlTables:
    """The tables of one app, and how to run statements on them. ``SqlStore`` sets the
    attributes; the classes of each concept only use them."""

    app_id: str
    dialect: Dialect
    prefix: str
    _sessions: str
    _keys: str
    _secrets: str
    _tenants: str
    _log: RevocationLog
    _pool: ConnectionPool

    def _sql(self, statement: str) -> str:
        return self.dialect.sql(statement)

    def _run(self, work: Callable[[Any], T]) -> T:
        """``work(cursor)`` on a pooled connection (autocommit: each statement commits)."""

        def with_cursor(connection: Any) -> T:
            cursor = connection.cursor()
            try:
                return work(cursor)
            finally:
                cursor.close()

        return self._pool.run(with_cursor)

    def _run_in_transaction(self, work: Callable[[Any], T], *, owner: str | None = None) -> T:
        """``work(cursor)`` in one transaction: committed when it returns, rolled back
        when it raises. With ``owner``, no other transaction of the same owner runs at
        the same time (``Dialect.owner_lock``)."""

        def transaction(cursor: Any) -> T:
            dialect = self.dialect
            owned = nullcontext() if owner is None else dialect.owner_lock(cursor, owner)
            with dialect.writer_turn(), owned:
                cursor.execute(self.dialect.begin_statement)
                try:
                    result = work(cursor)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
                return result

        return self._run(transaction)

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it matched."""

        def work(cursor: Any) -> int:
            with self.dialect.writer_turn():
                cursor.execute(self._sql(statement), tuple(params))
            return int(cursor.rowcount)

        return self._run(work)

    def _fetch(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def work(cursor: Any) -> list[tuple[Any, ...]]:
            cursor.execute(self._sql(statement), tuple(params))
            return list(cursor.fetchall())

        return self._run(work)


def batches(items: Sequence[T]) -> Iterator[list[T]]:
    """``items`` in slices short enough for one ``IN (…)`` list each."""
    for start in range(0, len(items), _BATCH):
        yield list(items[start : start + _BATCH])


def marks(count: int) -> str:
    """``count`` placeholders, comma-separated."""
    return ", ".join("?" * count)


def dumps(value: dict[str, Any]) -> str:
    # Raises TypeError for values JSON cannot hold, before any database work.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
