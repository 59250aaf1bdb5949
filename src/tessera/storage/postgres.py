"""PostgreSQL through psycopg 3 (``pip install tessera[postgres]``).

Connections run in autocommit: every operation but one is a single statement, and
the refresh-token rotation is a single conditional UPDATE, atomic by itself.

Time limits: the server cancels a statement after ``Timeouts.statement`` and ends a
session left idle inside a transaction (a client that vanished holding row locks);
the pool cuts the socket of a connection that stays silent (psycopg has no socket
timeout of its own).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._pool import Timeouts
from ._sql import Dialect, schema_with_separate_indexes

__all__ = ["PostgresDialect"]

_SCHEMA_LOCK_ID = 0x7E55E7A  # an advisory-lock number only tessera uses


class PostgresDialect(Dialect):
    name = "postgresql"

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:
            raise ImportError(
                "the postgresql:// store needs psycopg: pip install 'tessera[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.url = url
        self.timeouts = timeouts or Timeouts()
        # libpq counts whole seconds, at least 2.
        self._connect_timeout = max(2, math.ceil(self.timeouts.connect))
        # Added to any options the URL already carries.
        given = str(conninfo_to_dict(url).get("options") or "")
        statement_ms = math.ceil(self.timeouts.statement * 1000)
        idle_ms = math.ceil(self.timeouts.socket * 2000)
        self._bounded_options = (
            f"{given} -c statement_timeout={statement_ms} "
            f"-c idle_in_transaction_session_timeout={idle_ms}"
        ).strip()

    def connect(self, *, bounded: bool = True) -> Any:
        if not bounded:
            return self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=self._connect_timeout
            )
        return self._psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=self._connect_timeout,
            options=self._bounded_options,
        )

    def socket_of(self, connection: Any) -> int | None:
        return int(connection.fileno())

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (self._psycopg.Error,)

    @property
    def retryable_errors(self) -> tuple[type[BaseException], ...]:
        return (self._psycopg.OperationalError, self._psycopg.InterfaceError)

    def schema(self, prefix: str) -> list[str]:
        return schema_with_separate_indexes(prefix, big="BIGINT", small="SMALLINT")

    @contextmanager
    def schema_lock(self, cursor: Any) -> Iterator[None]:
        # CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin in PostgreSQL.
        cursor.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_ID,))
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_ID,))

    def purge_statement(self, table: str) -> str:
        return (
            f"DELETE FROM {table} WHERE ctid IN "
            f"(SELECT ctid FROM {table} WHERE expires_at < ? LIMIT ?)"
        )
