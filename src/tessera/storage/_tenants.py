"""Apps and tenants of the core service (``tenant_id = 'public'`` is the app itself).

Removing one ends what it owns in one transaction, its sessions logged as revoked like
every other session delete, so an app or tenant made again with the same id starts
empty and no process accepts the old tokens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ._sessions import end_sessions
from ._sql import SqlTables, dumps
from .base import AppRecord, Removal

__all__ = ["SqlTenants"]


class SqlTenants(SqlTables):
    def put_tenant(self, app_id: str, tenant_id: str, config: dict[str, Any], now: int) -> bool:
        statement = self.dialect.insert_ignoring_duplicates(
            self._tenants, "app_id, tenant_id, config, created_at", 4
        )
        text = dumps(config)
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
            ended = end_sessions(self, cursor, app_id, sessions, session_params)
            for table in tables:
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {where}"), params)
            # The last statement deleted the app's or tenant's own rows.
            return Removal(int(cursor.rowcount) > 0, ended)

        return self._run_in_transaction(work)


def _app_record(row: Sequence[Any]) -> AppRecord:
    return AppRecord(row[0], row[1], json.loads(row[2]), int(row[3]))
