"""The tables of the SQL store: their definition, and bringing older ones up to date.

Every start runs the dialect's ``CREATE … IF NOT EXISTS`` statements (so a missing
table, such as the revocation log in a database made before it existed, is simply
created), then compares the version recorded in the ``schema`` table with
``SCHEMA_VERSION`` and migrates the tables that already existed. All of it happens
under the dialect's schema lock, so processes starting together take turns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._dialect import Dialect

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "app_tables_ddl",
    "create_or_migrate",
    "other_tables_ddl",
    "revocation_table_ddl",
    "schema_with_separate_indexes",
    "session_table_ddl",
]

#: 1: the first release.
#: 2: sessions remember a pending rotation (``rotation_pending``); the revocation log,
#: whose rows say what happened (``kind``); on MySQL/MariaDB ids compare exactly, trailing
#: spaces included.
#: 3: sessions keep their last activity (``last_active_at``, ``last_ip``,
#: ``last_user_agent``); ``ip`` and ``user_agent`` stay those of the creation.
SCHEMA_VERSION = 3

#: Every table, without the prefix.
TABLES = ("sessions", "signing_keys", "secrets", "schema", "tenants", "revocations")


def create_or_migrate(cursor: Any, dialect: Dialect, prefix: str) -> None:
    """Create the tables that are missing and migrate the others to ``SCHEMA_VERSION``."""
    dialect.prepare(cursor)
    with dialect.schema_lock(cursor):
        for statement in dialect.schema(prefix):
            cursor.execute(statement)
        cursor.execute(f"SELECT version FROM {prefix}schema")
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"INSERT INTO {prefix}schema (version) VALUES ({SCHEMA_VERSION:d})")
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(
                f"the database schema (version {row[0]}) is newer than this tessera "
                f"understands ({SCHEMA_VERSION}); upgrade tessera"
            )
        elif int(row[0]) < SCHEMA_VERSION:
            _migrate(cursor, dialect, prefix, int(row[0]))
        # Indexes on columns a migration may have added, so made after it.
        # An app's sessions, most recently active first (the operator's search).
        dialect.add_index(
            cursor, f"{prefix}sessions_activity", f"{prefix}sessions", "app_id, last_active_at"
        )


def _migrate(cursor: Any, dialect: Dialect, prefix: str, from_version: int) -> None:
    # Each step checks before it changes, so a migration cut short runs again cleanly.
    if from_version < 2:
        _add_column(cursor, f"{prefix}sessions", "rotation_pending", "SMALLINT DEFAULT 0 NOT NULL")
        # A revocation log written before payload changes were logged lacks ``kind``.
        _add_column(cursor, f"{prefix}revocations", "kind", "SMALLINT DEFAULT 0 NOT NULL")
    if from_version < 3:
        sessions = f"{prefix}sessions"
        added = _add_column(cursor, sessions, "last_active_at", "BIGINT DEFAULT 0 NOT NULL")
        _add_column(cursor, sessions, "last_ip", "VARCHAR(64)")
        _add_column(cursor, sessions, "last_user_agent", "TEXT")
        if added:
            # Until now ``ip`` and ``user_agent`` followed the last refresh: the best
            # record there is of both the creation and the last activity.
            cursor.execute(
                f"UPDATE {sessions} SET last_active_at = last_refreshed_at, "
                "last_ip = ip, last_user_agent = user_agent"
            )
    dialect.migrate(cursor, prefix, from_version)
    cursor.execute(f"UPDATE {prefix}schema SET version = {SCHEMA_VERSION:d}")


def _add_column(cursor: Any, table: str, column: str, definition: str) -> bool:
    """Add the column unless it exists; True when it was added."""
    cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    if column in [described[0] for described in cursor.description]:
        return False
    cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    return True


def schema_with_separate_indexes(prefix: str, *, big: str, small: str) -> list[str]:
    """The whole schema for databases with ``CREATE INDEX IF NOT EXISTS`` (SQLite,
    PostgreSQL). MySQL lacks it, so its dialect declares the indexes inside the table."""
    return [
        session_table_ddl(prefix, text="TEXT", big=big, small=small),
        # user_id first: led by app_id, PostgreSQL picked this index for primary-key
        # lookups on a table it had not analysed yet, and read every row of the app.
        f"CREATE INDEX IF NOT EXISTS {prefix}sessions_by_user ON {prefix}sessions "
        "(user_id, app_id, tenant_id)",
        f"CREATE INDEX IF NOT EXISTS {prefix}sessions_expiry ON {prefix}sessions (expires_at)",
        *other_tables_ddl(prefix, text="TEXT", big=big),
        *app_tables_ddl(prefix, text="TEXT", big=big),
    ]


def session_table_ddl(prefix: str, *, text: str, big: str, small: str, tail: str = "") -> str:
    """The sessions table, in a dialect's column types."""
    return (
        f"CREATE TABLE IF NOT EXISTS {prefix}sessions ("
        "app_id VARCHAR(64) NOT NULL, session_handle VARCHAR(255) NOT NULL, "
        "tenant_id VARCHAR(64) NOT NULL, user_id VARCHAR(128) NOT NULL, "
        "refresh_token_hash VARCHAR(128) NOT NULL, previous_refresh_token_hash VARCHAR(128), "
        f"refresh_token_rotated_at {big}, session_data {text} NOT NULL, "
        f"access_token_payload {text} NOT NULL, created_at {big} NOT NULL, "
        f"expires_at {big} NOT NULL, last_refreshed_at {big} NOT NULL, ip VARCHAR(64), "
        f"user_agent {text}, use_static_key {small} NOT NULL, "
        f"rotation_pending {small} DEFAULT 0 NOT NULL, last_active_at {big} DEFAULT 0 NOT NULL, "
        f"last_ip VARCHAR(64), last_user_agent {text}, "
        f"PRIMARY KEY (app_id, session_handle){tail})"
    )


def other_tables_ddl(prefix: str, *, text: str, big: str, suffix: str = "") -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {prefix}signing_keys (app_id VARCHAR(64) NOT NULL, "
        f"kid VARCHAR(255) NOT NULL, algorithm VARCHAR(16) NOT NULL, created_at {big} NOT NULL, "
        f"public_key {text} NOT NULL, private_key {text} NOT NULL, "
        f"PRIMARY KEY (app_id, kid)){suffix}",
        f"CREATE TABLE IF NOT EXISTS {prefix}secrets (app_id VARCHAR(64) NOT NULL, "
        f"name VARCHAR(128) NOT NULL, value {text} NOT NULL, created_at {big} NOT NULL, "
        f"PRIMARY KEY (app_id, name)){suffix}",
        f"CREATE TABLE IF NOT EXISTS {prefix}schema (version INTEGER NOT NULL){suffix}",
    ]


def app_tables_ddl(prefix: str, *, text: str, big: str, suffix: str = "") -> list[str]:
    """Apps and tenants of the core service (``tenant_id = 'public'`` is the app itself)."""
    return [
        f"CREATE TABLE IF NOT EXISTS {prefix}tenants (app_id VARCHAR(64) NOT NULL, "
        f"tenant_id VARCHAR(64) NOT NULL, config {text} NOT NULL, created_at {big} NOT NULL, "
        f"PRIMARY KEY (app_id, tenant_id)){suffix}",
    ]


def revocation_table_ddl(
    prefix: str, *, seq: str, big: str, suffix: str = "", inline_index: bool = False
) -> list[str]:
    """The revocation log: one row per revoked session, ``seq`` never reused (so a
    reader that remembers the last number it saw never misses a later row)."""
    index = f", INDEX {prefix}revocations_age (revoked_at)" if inline_index else ""
    table = (
        f"CREATE TABLE IF NOT EXISTS {prefix}revocations (seq {seq}, "
        "app_id VARCHAR(64) NOT NULL, session_handle VARCHAR(255) NOT NULL, "
        f"revoked_at {big} NOT NULL, kind SMALLINT NOT NULL DEFAULT 0{index}){suffix}"
    )
    if inline_index:
        return [table]
    return [
        table,
        f"CREATE INDEX IF NOT EXISTS {prefix}revocations_age ON {prefix}revocations (revoked_at)",
    ]
