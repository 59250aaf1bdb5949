"""What differs between SQLite, PostgreSQL and MySQL/MariaDB, for the SQL store.

Statements are written once, with ``?`` placeholders and standard SQL; a ``Dialect``
supplies the rest: the driver and its time limits, the DDL, the placeholder style, how
to delete a bounded batch, whether ``DELETE … RETURNING`` exists, and how to lock rows.
One subclass per database family lives in ``sqlite``, ``postgres`` and ``mysql``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from ._pool import Timeouts

__all__ = ["Dialect"]


class Dialect:
    """What one database family needs that the others do not."""

    name: str
    uses_format_placeholders: bool = True
    has_delete_returning: bool = True
    begin_statement = "BEGIN"
    #: Appended to a SELECT to lock its rows until the transaction ends.
    row_lock_clause = " FOR UPDATE"
    #: Create and migrate the tables on a pooled connection rather than on one of their own
    #: without time limits (SQLite: a second ``:memory:`` connection is another database).
    schema_in_pool = False
    timeouts = Timeouts()
    #: The database's clock in milliseconds since the epoch, as an SQL expression: the
    #: revocation log is stamped and purged by one clock whatever the callers' clocks.
    now_ms_sql = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

    #: Run first in a transaction whose commit need not wait for the disk (``None``: every
    #: commit waits, or the database offers no per-transaction choice).
    lossy_commit_statement: str | None = None

    def writer_turn(self) -> AbstractContextManager[None]:
        """Held around every write. A database that queues its writers well needs nothing."""
        return nullcontext()

    def close(self) -> None:
        """Let go of whatever the dialect holds besides connections."""

    def sql(self, statement: str) -> str:
        """``statement``, written with ``?`` placeholders, in the driver's own style."""
        return statement.replace("?", "%s") if self.uses_format_placeholders else statement

    def connect(self, *, bounded: bool = True) -> Any:
        """A new connection; ``bounded`` ones carry the database-side time limits."""
        raise NotImplementedError

    def socket_of(self, connection: Any) -> int | None:
        """The connection's socket, for the pool to cut if the database falls silent;
        ``None`` when the driver enforces a socket timeout itself."""
        return None

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    @property
    def retryable_errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    def schema(self, prefix: str) -> list[str]:
        """CREATE statements for the current schema, each idempotent."""
        raise NotImplementedError

    def prepare(self, cursor: Any) -> None:
        """Learn what the server offers, before ``schema`` and ``migrate`` are asked."""

    def migrate(self, cursor: Any, prefix: str, from_version: int) -> None:
        """Bring tables of ``from_version`` to the current schema version (the
        dialect-specific part, after the common one). Must be safe to run again after a
        crash half-way."""

    def add_index(self, cursor: Any, name: str, table: str, columns: str) -> None:
        """Create the index unless it exists."""
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    @contextmanager
    def schema_lock(self, cursor: Any) -> Iterator[None]:
        """Held while creating or migrating tables, so processes starting together take
        turns."""
        yield

    def insert_ignoring_duplicates(self, table: str, columns: str, count: int) -> str:
        marks = ", ".join("?" * count)
        return f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING"

    def purge_statement(self, table: str) -> str:
        raise NotImplementedError

    def notify_statement(self, channel: str) -> str | None:
        """A statement that wakes listeners when the transaction commits, if the
        database has one (PostgreSQL's NOTIFY)."""
        return None
