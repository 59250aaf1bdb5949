"""MySQL and MariaDB through PyMySQL (``pip install tessera-sessions[mysql]``).

Two details matter here. Text columns use the binary collation, because MySQL's
default comparisons ignore case and "Bob" must not revoke "bob"'s sessions. And the
connection counts *matched* rather than *changed* rows, so writing a value that is
already stored still reports the session as found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from ._sql import (
    Dialect,
    app_tables_ddl,
    other_tables_ddl,
    revocation_table_ddl,
    session_table_ddl,
)

__all__ = ["MysqlDialect"]

_TABLE_OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"


class MysqlDialect(Dialect):
    name = "mysql"
    # MariaDB has DELETE ... RETURNING, MySQL does not: use the portable form.
    has_delete_returning = False
    begin_statement = "START TRANSACTION"
    now_ms_sql = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"

    def __init__(self, url: str) -> None:
        try:
            import pymysql
            from pymysql.constants import CLIENT
        except ImportError:
            raise ImportError(
                "the mysql:// store needs PyMySQL: pip install 'tessera-sessions[mysql]'"
            ) from None
        self._pymysql = pymysql
        parts = urlsplit(url)
        self._args: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 3306,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            "database": parts.path.lstrip("/") or None,
            "charset": "utf8mb4",
            "autocommit": True,
            "client_flag": CLIENT.FOUND_ROWS,
            "connect_timeout": 10,
        }

    def connect(self) -> Any:
        return self._pymysql.connect(**self._args)

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (self._pymysql.Error,)

    @property
    def retryable_errors(self) -> tuple[type[BaseException], ...]:
        return (self._pymysql.OperationalError, self._pymysql.InterfaceError)

    def schema(self, prefix: str) -> list[str]:
        indexes = (
            f", INDEX {prefix}sessions_by_user (user_id, app_id, tenant_id)"
            f", INDEX {prefix}sessions_expiry (expires_at)"
        )
        return [
            session_table_ddl(prefix, text="TEXT", big="BIGINT", small="SMALLINT", tail=indexes)
            + _TABLE_OPTIONS,
            *other_tables_ddl(prefix, text="TEXT", big="BIGINT", suffix=_TABLE_OPTIONS),
            *app_tables_ddl(prefix, text="TEXT", big="BIGINT", suffix=_TABLE_OPTIONS),
            *revocation_table_ddl(
                prefix,
                seq="BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                big="BIGINT",
                suffix=_TABLE_OPTIONS,
                inline_index=True,
            ),
        ]

    @contextmanager
    def schema_lock(self, cursor: Any) -> Iterator[None]:
        cursor.execute("SELECT GET_LOCK('tessera_schema', 60)")
        try:
            yield
        finally:
            cursor.execute("SELECT RELEASE_LOCK('tessera_schema')")

    def insert_ignoring_duplicates(self, table: str, columns: str, count: int) -> str:
        marks = ", ".join("?" * count)
        return f"INSERT IGNORE INTO {table} ({columns}) VALUES ({marks})"

    def purge_statement(self, table: str) -> str:
        return f"DELETE FROM {table} WHERE expires_at < ? LIMIT ?"
