"""The session store for SQL databases, written once for every dialect.

Statements are written with ``?`` placeholders and standard SQL; a ``Dialect`` supplies
what differs between SQLite, PostgreSQL and MySQL/MariaDB: the driver, the DDL, the
placeholder style, how to delete a bounded batch, and whether ``DELETE … RETURNING``
exists. The tables and their migration are in ``_schema``, the revocation log's
statements in ``_revocation_log``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from ._pool import ConnectionPool, Timeouts
from ._revocation_log import RevocationLog
from ._schema import TABLES, create_or_migrate
from .base import PAYLOAD_CHANGED, AppRecord, KeyRecord, Removal, RevocationRecord, SessionRecord

__all__ = ["Dialect", "SqlStore"]

T = TypeVar("T")

_SESSION_COLUMNS = (
    "session_handle, tenant_id, user_id, refresh_token_hash, previous_refresh_token_hash, "
    "refresh_token_rotated_at, session_data, access_token_payload, created_at, expires_at, "
    "last_refreshed_at, ip, user_agent, use_static_key, rotation_pending"
)
_BATCH = 500


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


class SqlStore:
    """A ``SessionStore`` over any ``Dialect``. Build it with ``tessera.storage.open_store``."""

    def __init__(
        self,
        dialect: Dialect,
        *,
        prefix: str,
        pool_size: int,
        app_id: str = "public",
        _pool: ConnectionPool | None = None,
    ) -> None:
        self.app_id = app_id
        self.dialect = dialect
        self.prefix = prefix
        self._sessions = f"{prefix}sessions"
        self._keys = f"{prefix}signing_keys"
        self._secrets = f"{prefix}secrets"
        self._tenants = f"{prefix}tenants"
        self._log = RevocationLog(dialect, prefix)
        #: The name revocation signals use (PostgreSQL channel, Redis channel).
        self.revocation_channel = self._log.channel
        self._pool = _pool or ConnectionPool(
            dialect.connect,
            size=pool_size,
            driver_errors=dialect.driver_errors,
            retryable_errors=dialect.retryable_errors,
            backend=dialect.name,
            timeouts=dialect.timeouts,
            socket_of=dialect.socket_of,
        )
        if _pool is None:
            if dialect.schema_in_pool:
                self._pool.run(self._create_schema)
            else:
                self._pool.run_alone(self._create_schema, lambda: dialect.connect(bounded=False))

    def for_app(self, app_id: str) -> SqlStore:
        return SqlStore(
            self.dialect, prefix=self.prefix, pool_size=1, app_id=app_id, _pool=self._pool
        )

    # -- plumbing ----------------------------------------------------------------

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.dialect.uses_format_placeholders else statement

    def _run(self, work: Callable[[Any], T]) -> T:
        def with_cursor(connection: Any) -> T:
            cursor = connection.cursor()
            try:
                return work(cursor)
            finally:
                cursor.close()

        return self._pool.run(with_cursor)

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        def work(cursor: Any) -> int:
            cursor.execute(self._sql(statement), tuple(params))
            return int(cursor.rowcount)

        return self._run(work)

    def _fetch(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def work(cursor: Any) -> list[tuple[Any, ...]]:
            cursor.execute(self._sql(statement), tuple(params))
            return list(cursor.fetchall())

        return self._run(work)

    @contextmanager
    def _transaction(self, cursor: Any) -> Iterator[None]:
        cursor.execute(self.dialect.begin_statement)
        try:
            yield
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def _create_schema(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            create_or_migrate(cursor, self.dialect, self.prefix)
        finally:
            cursor.close()

    def drop_tables(self) -> None:
        """Remove every table this store created (tests and ``tessera uninstall``)."""

        def work(cursor: Any) -> None:
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {self.prefix}{table}")

        self._run(work)

    def close(self) -> None:
        self._pool.close()

    # -- sessions ----------------------------------------------------------------

    def create_session(self, record: SessionRecord) -> None:
        row = _session_row(record)
        marks = ", ".join("?" * (len(row) + 1))
        self._execute(
            f"INSERT INTO {self._sessions} (app_id, {_SESSION_COLUMNS}) VALUES ({marks})",
            (self.app_id, *row),
        )

    def get_session(self, session_handle: str) -> SessionRecord | None:
        rows = self._fetch(
            f"SELECT {_SESSION_COLUMNS} FROM {self._sessions} "
            "WHERE app_id = ? AND session_handle = ?",
            (self.app_id, session_handle),
        )
        return _session_record(rows[0]) if rows else None

    def get_session_lifetime(self, session_handle: str) -> tuple[int, int] | None:
        rows = self._fetch(
            f"SELECT created_at, expires_at FROM {self._sessions} "
            "WHERE app_id = ? AND session_handle = ?",
            (self.app_id, session_handle),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

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
            "ip = COALESCE(?, ip), user_agent = COALESCE(?, user_agent), use_static_key = ?, "
            "rotation_pending = ? "
            "WHERE app_id = ? AND session_handle = ? AND refresh_token_hash = ?",
            (
                new_hash,
                expected_hash,
                rotated_at,
                rotated_at,
                expires_at,
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
        changed = self._execute(
            f"UPDATE {self._sessions} SET rotation_pending = 0, refresh_token_rotated_at = ? "
            "WHERE app_id = ? AND session_handle = ? AND refresh_token_hash = ? "
            "AND previous_refresh_token_hash = ? AND rotation_pending = 1",
            (now, self.app_id, session_handle, new_hash, previous_hash),
        )
        return changed == 1

    def update_session_data(self, session_handle: str, data: dict[str, Any], now: int) -> bool:
        return self._update_json("session_data", session_handle, data, now)

    def update_access_token_payload(
        self, session_handle: str, payload: dict[str, Any], now: int
    ) -> bool:
        text, table = _dumps(payload), self._sessions

        def work(cursor: Any) -> bool:
            with self._transaction(cursor):
                cursor.execute(
                    self._sql(
                        f"UPDATE {table} SET access_token_payload = ? "
                        "WHERE app_id = ? AND session_handle = ? AND expires_at >= ?"
                    ),
                    (text, self.app_id, session_handle, now),
                )
                changed = int(cursor.rowcount) == 1
                if changed:
                    self._log.write(cursor, self.app_id, [session_handle], PAYLOAD_CHANGED)
            return changed

        return self._run(work)

    def _update_json(
        self, column: str, session_handle: str, value: dict[str, Any], now: int
    ) -> bool:
        text = _dumps(value)
        changed = self._execute(
            f"UPDATE {self._sessions} SET {column} = ? "
            "WHERE app_id = ? AND session_handle = ? AND expires_at >= ?",
            (text, self.app_id, session_handle, now),
        )
        return changed == 1

    def transform_access_token_payload(
        self,
        session_handle: str,
        transform: Callable[[dict[str, Any]], dict[str, Any]],
        now: int,
    ) -> bool:
        table, lock = self._sessions, self.dialect.row_lock_clause

        def work(cursor: Any) -> bool:
            with self._transaction(cursor):
                cursor.execute(
                    self._sql(
                        f"SELECT access_token_payload FROM {table} WHERE app_id = ? "
                        f"AND session_handle = ? AND expires_at >= ?{lock}"
                    ),
                    (self.app_id, session_handle, now),
                )
                row = cursor.fetchone()
                if row is None:
                    return False
                cursor.execute(
                    self._sql(
                        f"UPDATE {table} SET access_token_payload = ? "
                        "WHERE app_id = ? AND session_handle = ?"
                    ),
                    (_dumps(transform(json.loads(row[0]))), self.app_id, session_handle),
                )
                self._log.write(cursor, self.app_id, [session_handle], PAYLOAD_CHANGED)
            return True

        return self._run(work)

    def delete_sessions(self, session_handles: Sequence[str]) -> list[str]:
        unique = list(dict.fromkeys(session_handles))
        deleted: list[str] = []
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start : start + _BATCH]
            marks = ", ".join("?" * len(chunk))
            deleted += self._delete_where(f"session_handle IN ({marks})", chunk)
        return deleted

    def delete_sessions_for_user(self, user_id: str, tenant_id: str | None, now: int) -> list[str]:
        where, params = self._user_filter(user_id, tenant_id, now)
        return self._delete_where(where, params)

    def list_session_handles_for_user(
        self, user_id: str, tenant_id: str | None, now: int
    ) -> list[str]:
        where, params = self._user_filter(user_id, tenant_id, now)
        rows = self._fetch(
            f"SELECT session_handle FROM {self._sessions} WHERE app_id = ? AND {where} "
            "ORDER BY created_at, session_handle",
            (self.app_id, *params),
        )
        return [row[0] for row in rows]

    def _user_filter(self, user_id: str, tenant_id: str | None, now: int) -> tuple[str, list[Any]]:
        if tenant_id is None:
            return "user_id = ? AND expires_at >= ?", [user_id, now]
        return "user_id = ? AND tenant_id = ? AND expires_at >= ?", [user_id, tenant_id, now]

    def _delete_where(self, where: str, params: Sequence[Any]) -> list[str]:
        # Every revocation goes through _delete_sessions: the deleted handles enter the
        # revocation log in the same transaction, so no process can see one without the
        # other.
        def work(cursor: Any) -> list[str]:
            with self._transaction(cursor):
                handles = self._delete_sessions(cursor, self.app_id, where, params)
                return self._log.write(cursor, self.app_id, handles)

        return self._run(work)

    def _delete_sessions(
        self, cursor: Any, app_id: str, where: str, params: Sequence[Any]
    ) -> list[str]:
        """Delete ``app_id``'s sessions matching ``where`` in the open transaction;
        return their handles."""
        table = self._sessions
        if self.dialect.has_delete_returning:
            cursor.execute(
                self._sql(
                    f"DELETE FROM {table} WHERE app_id = ? AND {where} RETURNING session_handle"
                ),
                (app_id, *params),
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(
            self._sql(
                f"SELECT session_handle FROM {table} WHERE app_id = ? AND {where}"
                f"{self.dialect.row_lock_clause}"
            ),
            (app_id, *params),
        )
        handles = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(handles), _BATCH):
            chunk = handles[start : start + _BATCH]
            marks = ", ".join("?" * len(chunk))
            cursor.execute(
                self._sql(f"DELETE FROM {table} WHERE app_id = ? AND session_handle IN ({marks})"),
                (app_id, *chunk),
            )
        return handles

    def purge_expired(self, now: int, limit: int) -> int:
        return self._execute(self.dialect.purge_statement(self._sessions), (now, limit))

    # -- the revocation log ----------------------------------------------------------

    def read_revocations(
        self, after_seq: int, also_seqs: Sequence[int], limit: int
    ) -> list[RevocationRecord]:
        return self._run(lambda cursor: self._log.read(cursor, after_seq, also_seqs, limit))

    def purge_revocations(self, keep_ms: int) -> int:
        return self._run(lambda cursor: self._log.purge(cursor, keep_ms))

    # -- keys and secrets ----------------------------------------------------------

    def list_signing_keys(self) -> list[KeyRecord]:
        rows = self._fetch(
            f"SELECT kid, algorithm, created_at, public_key, private_key FROM {self._keys} "
            "WHERE app_id = ? ORDER BY created_at",
            (self.app_id,),
        )
        return [KeyRecord(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]

    def add_signing_key(self, record: KeyRecord) -> None:
        statement = self.dialect.insert_ignoring_duplicates(
            self._keys, "app_id, kid, algorithm, created_at, public_key, private_key", 6
        )
        self._execute(
            statement,
            (
                self.app_id,
                record.kid,
                record.algorithm,
                record.created_at,
                record.public_key,
                record.private_key,
            ),
        )

    def delete_signing_keys(self, kids: Sequence[str]) -> None:
        for start in range(0, len(kids), _BATCH):
            chunk = list(kids[start : start + _BATCH])
            marks = ", ".join("?" * len(chunk))
            self._execute(
                f"DELETE FROM {self._keys} WHERE app_id = ? AND kid IN ({marks})",
                (self.app_id, *chunk),
            )

    def get_or_create_secret(self, name: str, value: str, now: int) -> str:
        statement = self.dialect.insert_ignoring_duplicates(
            self._secrets, "app_id, name, value, created_at", 4
        )
        self._execute(statement, (self.app_id, name, value, now))
        rows = self._fetch(
            f"SELECT value FROM {self._secrets} WHERE app_id = ? AND name = ?", (self.app_id, name)
        )
        return str(rows[0][0])

    # -- apps and tenants (the core service) ---------------------------------------

    def put_tenant(self, app_id: str, tenant_id: str, config: dict[str, Any], now: int) -> bool:
        statement = self.dialect.insert_ignoring_duplicates(
            self._tenants, "app_id, tenant_id, config, created_at", 4
        )
        text = _dumps(config)
        if self._execute(statement, (app_id, tenant_id, text, now)) == 1:
            return True
        self._execute(
            f"UPDATE {self._tenants} SET config = ? WHERE app_id = ? AND tenant_id = ?",
            (text, app_id, tenant_id),
        )
        return False

    def get_tenant(self, app_id: str, tenant_id: str) -> AppRecord | None:
        rows = self._fetch(
            f"SELECT app_id, tenant_id, config, created_at FROM {self._tenants} "
            "WHERE app_id = ? AND tenant_id = ?",
            (app_id, tenant_id),
        )
        return _app_record(rows[0]) if rows else None

    def list_tenants(self, app_id: str | None) -> list[AppRecord]:
        columns = f"SELECT app_id, tenant_id, config, created_at FROM {self._tenants}"
        if app_id is None:
            rows = self._fetch(f"{columns} ORDER BY app_id, tenant_id")
        else:
            rows = self._fetch(f"{columns} WHERE app_id = ? ORDER BY tenant_id", (app_id,))
        return [_app_record(row) for row in rows]

    def delete_tenant(self, app_id: str, tenant_id: str | None) -> Removal:
        tables: tuple[str, ...]
        params: tuple[str, ...]
        session_params: tuple[str, ...]
        if tenant_id is None:
            tables = (self._keys, self._secrets, self._tenants)
            where, params = "app_id = ?", (app_id,)
            sessions, session_params = "1 = 1", ()
        else:
            tables = (self._tenants,)
            where, params = "app_id = ? AND tenant_id = ?", (app_id, tenant_id)
            sessions, session_params = "tenant_id = ?", (tenant_id,)

        def work(cursor: Any) -> Removal:
            with self._transaction(cursor):
                # Ending these sessions is a revocation like any other: logged with it.
                ended = self._delete_sessions(cursor, app_id, sessions, session_params)
                self._log.write(cursor, app_id, ended)
                for table in tables:
                    cursor.execute(self._sql(f"DELETE FROM {table} WHERE {where}"), params)
                # The last statement deleted the app's or tenant's own rows.
                return Removal(int(cursor.rowcount) > 0, ended)

        return self._run(work)


def _app_record(row: Sequence[Any]) -> AppRecord:
    return AppRecord(row[0], row[1], json.loads(row[2]), int(row[3]))


def _dumps(value: dict[str, Any]) -> str:
    # Raises TypeError for values JSON cannot hold, before any database work.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _session_row(r: SessionRecord) -> tuple[Any, ...]:
    return (
        r.session_handle,
        r.tenant_id,
        r.user_id,
        r.refresh_token_hash,
        r.previous_refresh_token_hash,
        r.refresh_token_rotated_at,
        _dumps(r.session_data),
        _dumps(r.access_token_payload),
        r.created_at,
        r.expires_at,
        r.last_refreshed_at,
        r.ip,
        r.user_agent,
        int(r.use_static_key),
        int(r.rotation_pending),
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
    )
