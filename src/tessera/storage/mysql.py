"""MySQL and MariaDB through PyMySQL (``pip install tessera-sessions[mysql]``).

Two details matter here. Text columns use a binary collation without padding,
because MySQL's default comparisons ignore case and even its ``utf8mb4_bin`` ignores
trailing spaces: "Bob" and "bob " must not revoke "bob"'s sessions. (MariaDB calls it
``utf8mb4_nopad_bin``, MySQL 8 ``utf8mb4_0900_bin``; tables of schema version 1 are
converted on start.) And the connection counts *matched* rather than *changed* rows,
so writing a value that is already stored still reports the session as found.

Time limits: PyMySQL's own read and write timeouts bound every wait on the socket;
the server gives up on a statement, or a lock wait, after ``Timeouts.statement``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from ._dialect import Dialect
from ._pool import Timeouts
from ._schema import (
    TABLES,
    app_tables_ddl,
    other_tables_ddl,
    revocation_table_ddl,
    session_table_ddl,
)

__all__ = ["MysqlDialect"]

#: Binary collations that do not pad: MariaDB's, then MySQL 8's.
_EXACT_COLLATIONS = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin")


class MysqlDialect(Dialect):
    name = "mysql"
    # MariaDB has DELETE ... RETURNING, MySQL does not: use the portable form.
    has_delete_returning = False
    begin_statement = "START TRANSACTION"
    now_ms_sql = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
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
        }
        self.timeouts = timeouts or Timeouts()
        self._collation = _EXACT_COLLATIONS[0]

    def connect(self, *, bounded: bool = True) -> Any:
        t = self.timeouts
        if not bounded:
            return self._pymysql.connect(**self._args, connect_timeout=t.connect)
        connection = self._pymysql.connect(
            **self._args, connect_timeout=t.connect, read_timeout=t.socket, write_timeout=t.socket
        )
        lock_wait = max(1, math.ceil(t.statement))
        if "mariadb" in connection.get_server_info().lower():
            limits = (
                f"max_statement_time = {t.statement:.3f}, "
                f"idle_transaction_timeout = {math.ceil(t.socket * 2)}"
            )
        else:
            limits = f"max_execution_time = {math.ceil(t.statement * 1000)}"
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {lock_wait}, {limits}")
        except BaseException:
            connection.close()
            raise
        return connection

    @property
    def driver_errors(self) -> tuple[type[BaseException], ...]:
        return (self._pymysql.Error,)

    @property
    def retryable_errors(self) -> tuple[type[BaseException], ...]:
        return (self._pymysql.OperationalError, self._pymysql.InterfaceError)

    def prepare(self, cursor: Any) -> None:
        cursor.execute("SHOW COLLATION WHERE Charset = 'utf8mb4'")
        available = {row[0] for row in cursor.fetchall()}
        for name in _EXACT_COLLATIONS:
            if name in available:
                self._collation = name
                return
        raise RuntimeError(
            "this MySQL server has no binary collation without padding (MySQL 5.7?): ids "
            "would compare with trailing spaces ignored; use MySQL 8 or MariaDB 10.2 or later"
        )

    def _table_options(self) -> str:
        return f" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={self._collation}"

    def schema(self, prefix: str) -> list[str]:
        indexes = (
            f", INDEX {prefix}sessions_by_user (user_id, app_id, tenant_id)"
            f", INDEX {prefix}sessions_expiry (expires_at)"
        )
        options = self._table_options()
        return [
            session_table_ddl(prefix, text="TEXT", big="BIGINT", small="SMALLINT", tail=indexes)
            + options,
            *other_tables_ddl(prefix, text="TEXT", big="BIGINT", suffix=options),
            *app_tables_ddl(prefix, text="TEXT", big="BIGINT", suffix=options),
            *revocation_table_ddl(
                prefix,
                seq="BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
                big="BIGINT",
                suffix=options,
                inline_index=True,
            ),
        ]

    def migrate(self, cursor: Any, prefix: str, from_version: int) -> None:
        if from_version < 2:
            # utf8mb4_bin pads: "bob" = "bob ". Converting only makes more ids distinct,
            # so no key can collide.
            for table in TABLES:
                cursor.execute(
                    f"ALTER TABLE {prefix}{table} "
                    f"CONVERT TO CHARACTER SET utf8mb4 COLLATE {self._collation}"
                )

    def add_index(self, cursor: Any, name: str, table: str, columns: str) -> None:
        # MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has).
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.statistics "
            "WHERE table_schema = DATABASE() AND table_name = %s AND index_name = %s",
            (table, name),
        )
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"CREATE INDEX {name} ON {table} ({columns})")

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
