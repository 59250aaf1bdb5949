"""Creating and migrating the tables, on every backend.

A database of every earlier shape comes up to the current schema on start: release 1;
release 1 with the revocation log (with and without its ``kind`` column, as the
revocation feed's work wrote it, still at version 1); version 2 before the log
existed; version 2 (before sessions kept their last activity); and a migration cut
short half-way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera.storage import SessionMatch, SqlStore
from tessera.storage._schema import SCHEMA_VERSION, TABLES
from tessera.storage.base import PAYLOAD_CHANGED, REVOKED

from .._support.records import NOW, record

STARTS = [
    "release-1",
    "version-1-with-log",
    "version-1-with-log-without-kind",
    "version-2-without-log",
    "version-2",
    "cut-short",
]

#: Version 3's columns, which every earlier start lacks.
ACTIVITY_COLUMNS = ("last_active_at", "last_ip", "last_user_agent")


def _reshape(store: SqlStore, start: str) -> None:
    """Turn the freshly created tables of ``store`` into those of ``start``."""
    prefix, mysql = store.prefix, store.dialect.name == "mysql"

    def work(cursor: Any) -> None:
        on = f" ON {prefix}sessions" if mysql else ""
        cursor.execute(f"DROP INDEX {prefix}sessions_activity{on}")
        for column in ACTIVITY_COLUMNS:
            cursor.execute(f"ALTER TABLE {prefix}sessions DROP COLUMN {column}")
        cursor.execute(f"UPDATE {prefix}schema SET version = 2")
        if start == "version-2":
            return
        if start in ("release-1", "version-2-without-log"):
            cursor.execute(f"DROP TABLE {prefix}revocations")
        if start == "version-1-with-log-without-kind":
            cursor.execute(f"ALTER TABLE {prefix}revocations DROP COLUMN kind")
        if start != "version-2-without-log":
            cursor.execute(f"UPDATE {prefix}schema SET version = 1")
            if start != "cut-short":  # there, the column was added before the cut
                cursor.execute(f"ALTER TABLE {prefix}sessions DROP COLUMN rotation_pending")
        if mysql and start != "version-2-without-log":
            # Release 1's collation, which ignores trailing spaces; cut short after the
            # sessions table was converted back.
            converted = ("sessions",) if start == "cut-short" else ()
            for table in TABLES:
                if table in converted or (table == "revocations" and start == "release-1"):
                    continue
                cursor.execute(
                    f"ALTER TABLE {prefix}{table} "
                    "CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )

    store._run(work)


def _collations(store: SqlStore) -> set[str]:
    rows = store._fetch(
        "SELECT DISTINCT collation_name FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name LIKE ? AND collation_name IS NOT NULL",
        (f"{store.prefix}%",),
    )
    return {row[0] for row in rows}


@pytest.mark.parametrize("start", STARTS)
def test_older_tables_are_migrated_on_start(
    store_factory: Callable[..., SqlStore], start: str
) -> None:
    first = store_factory()
    prefix = first.prefix
    first.create_session(record("h1", user_id="bob", last_refreshed_at=NOW + 3))
    first.create_session(record("gone"))
    first.delete_sessions(["gone"])  # a row in the log, where there is one
    _reshape(first, start)

    migrated = store_factory()
    assert migrated._fetch(f"SELECT version FROM {prefix}schema") == [(SCHEMA_VERSION,)]
    # Before version 3, ip and user agent followed the last refresh: they become the
    # last activity's too.
    assert migrated.load_session("h1") == record(
        "h1",
        user_id="bob",
        last_refreshed_at=NOW + 3,
        last_active_at=NOW + 3,
        last_ip="203.0.113.9",
        last_user_agent="Mozilla/5.0",
    )
    # Ids compare exactly (MySQL/MariaDB: a binary collation that does not pad).
    assert migrated.load_session("h1 ") is None
    assert migrated.delete_matching_sessions(SessionMatch(user_id="bob "), NOW) == []
    if migrated.dialect.name == "mysql":
        assert _collations(migrated) == {migrated.dialect._collation}  # type: ignore[attr-defined]
    # A rotation can be pending, and acknowledged.
    rotate: dict[str, Any] = {
        "rotated_at": NOW + 5,
        "expires_at": NOW + 90_000,
        "ip": None,
        "user_agent": None,
        "use_static_key": False,
    }
    assert migrated.rotate_refresh_token(
        "h1", expected_hash="hash-0", new_hash="hash-1", pending=True, **rotate
    )
    pending = migrated.load_session("h1")
    assert pending is not None
    assert pending.rotation_pending
    assert migrated.acknowledge_rotation("h1", new_hash="hash-1", previous_hash="hash-0", now=NOW)
    # Payload changes and revocations are logged, after whatever the log held.
    assert migrated.update_access_token_payload("h1", lambda p: {**p, "n": 1}, NOW)
    assert migrated.delete_sessions(["h1"]) == ["h1"]
    logged = [(r.session_handle, r.kind) for r in migrated.read_revocations(0, (), 100)]
    before = [] if start in ("release-1", "version-2-without-log") else [("gone", REVOKED)]
    assert logged == [*before, ("h1", PAYLOAD_CHANGED), ("h1", REVOKED)]
    # Starting again finds nothing to do.
    again = store_factory()
    assert again._fetch(f"SELECT version FROM {prefix}schema") == [(SCHEMA_VERSION,)]
    again.create_session(record("h2"))
    assert again.load_session("h2") == record("h2")


def test_a_newer_schema_is_refused(store_factory: Callable[..., SqlStore]) -> None:
    first = store_factory()
    first._execute(f"UPDATE {first.prefix}schema SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="upgrade tessera"):
        store_factory()
