"""SQLite: the default store, from the standard library. One file, WAL journal.

WAL lets readers run while one writer commits; ``synchronous=NORMAL`` makes a commit
durable against an application crash (a power cut may lose the last commits, which for
sessions means a few users log in again). Writers wait for each other instead of
failing, up to ``Timeouts.statement`` (SQLite's ``busy_timeout``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ._dialect import Dialect
from ._pool import Timeouts
from ._schema import revocation_table_ddl, schema_with_separate_indexes
from ._writer_turn import WriterTurn

__all__ = ["SqliteDialect"]


class SqliteDialect(Dialect):
    name = "sqlite"
    uses_format_placeholders = False
    has_delete_returning = sqlite3.sqlite_version_info >= (3, 35)
    # BEGIN IMMEDIATE takes the database's write lock at once: no row locks needed.
    begin_statement = "BEGIN IMMEDIATE"
    row_lock_clause = ""
    locks_rows = False
    schema_in_pool = True
    now_ms_sql = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"

    def __init__(self, path: str, timeouts: Timeouts | None = None) -> None:
        self.path = path
        self.timeouts = timeouts or Timeouts()
        self._writers = WriterTurn(path, timeout=self.timeouts.statement)

    def writer_turn(self) -> AbstractContextManager[None]:
        return self._writers()

    def close(self) -> None:
        self._writers.close()

    def connect(self, *, bounded: bool = True) -> Any:
        busy_ms = int(self.timeouts.statement * 1000)
        connection = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=busy_ms / 1000,
        )
        if self.path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA busy_timeout={busy_ms}")
        return connection

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    @property
    def retryable_errors(self) -> tuple[type[BaseException], ...]:
        return ()

    def schema(self, prefix: str) -> list[str]:
        return [
            *schema_with_separate_indexes(prefix, big="INTEGER", small="INTEGER"),
            # AUTOINCREMENT: a number is never reused, even after the newest row is purged.
            *revocation_table_ddl(prefix, seq="INTEGER PRIMARY KEY AUTOINCREMENT", big="INTEGER"),
        ]

    @contextmanager
    def schema_lock(self, cursor: Any) -> Iterator[None]:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def purge_statement(self, table: str) -> str:
        return (
            f"DELETE FROM {table} WHERE rowid IN "
            f"(SELECT rowid FROM {table} WHERE expires_at < ? LIMIT ?)"
        )
