"""PostgreSQL through psycopg 3 (``pip install tessera-sessions[postgres]``).

Connections run in autocommit: every operation but one is a single statement, and
the refresh-token rotation is a single conditional UPDATE, atomic by itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ._sql import Dialect, schema_with_separate_indexes

__all__ = ["PostgresDialect"]

_SCHEMA_LOCK_ID = 0x7E55E7A  # an advisory-lock number only tessera uses


class PostgresDialect(Dialect):
    name = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise ImportError(
                "the postgresql:// store needs psycopg: pip install 'tessera-sessions[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.url = url

    def connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)

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
