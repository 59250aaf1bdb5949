"""PostgreSQL chores: the run's own schema and tables, their removal, and bulk loading of
stored sessions into a tessera sessions table (for the growth rows)."""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["bulk_load_sessions", "count_sessions", "drop_run_objects", "ensure_schema", "reachable"]


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else why not."""
    try:
        with _connect(url) as connection:
            connection.execute("SELECT 1")
    except ImportError:
        return "psycopg is not installed"
    except Exception as error:
        return f"PostgreSQL unreachable: {str(error).strip()[:120]}"
    return None


def ensure_schema(url: str, schema: str) -> None:
    with _connect(url) as connection:
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def drop_run_objects(url: str, schema: str, table_prefix: str) -> None:
    """Remove the run's schema and every table in ``public`` whose name starts with the
    run's prefix (and nothing else)."""
    with _connect(url) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            (table_prefix.replace("_", r"\_") + "%",),
        ).fetchall()
        for (table,) in rows:
            connection.execute(f'DROP TABLE IF EXISTS public."{table}" CASCADE')


def count_sessions(url: str, table: str) -> int:
    with _connect(url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def bulk_load_sessions(
    url: str, table: str, first: int, count: int, *, per_user: int = 10
) -> float:
    """COPY ``count`` sessions shaped like tessera's own rows (sessions ``first`` ..
    ``first+count-1``; ``per_user`` sessions per user ``g<n>``). Returns the seconds taken.

    The table's indexes are dropped for the load and rebuilt after it (what a bulk import
    does), which keeps 10^6 rows to tens of seconds."""
    started = time.monotonic()
    now = int(time.time() * 1000)
    expires = now + 100 * 24 * 3600 * 1000
    tail = '\\N\t\\N\t{}\t{"role":"member"}\t'
    agent = "Mozilla/5.0 (X11; Linux x86_64) bench"
    columns = (
        "app_id, session_handle, tenant_id, user_id, refresh_token_hash, "
        "previous_refresh_token_hash, refresh_token_rotated_at, session_data, "
        "access_token_payload, created_at, expires_at, last_refreshed_at, ip, user_agent, "
        "use_static_key"
    )
    with _connect(url) as connection, connection.cursor() as cursor:
        rebuild = _drop_indexes(cursor, table)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(first, first + count, 20_000):
                stop = min(start + 20_000, first + count)
                noise = os.urandom(48 * (stop - start)).hex()
                lines = []
                for i, n in enumerate(range(start, stop)):
                    r = noise[96 * i : 96 * i + 96]
                    handle = f"{r[:8]}-{r[8:12]}-4{r[13:16]}-a{r[17:20]}-{r[20:32]}"
                    created = now - (n % 86_400_000)
                    lines.append(
                        f"public\t{handle}\tpublic\tg{n // per_user}\t{r[32:]}\t{tail}"
                        f"{created}\t{expires}\t{created}\t127.0.0.1\t{agent}\t0\n"
                    )
                copy.write("".join(lines))
        for statement in rebuild:
            cursor.execute(statement)
        cursor.execute(f"ANALYZE {table}")
    return time.monotonic() - started


def _drop_indexes(cursor: Any, table: str) -> list[str]:
    """Drop the primary key and indexes of ``table``; return the statements that rebuild them."""
    rebuild: list[str] = []
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'p'",
        (table,),
    )
    for name, definition in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        rebuild.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s",
        (table,),
    )
    for name, definition in cursor.fetchall():
        cursor.execute(f'DROP INDEX IF EXISTS public."{name}"')
        rebuild.append(definition)
    return rebuild
