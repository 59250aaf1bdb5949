"""``SqlStore``: the session store for SQL databases, written once for every dialect.

It is the sum of one class per concept, each in its own module over the shared
plumbing of ``_sql``: the sessions (``_sessions``), creating them within a per-user
limit (``_limits``), signing keys and secrets (``_keys``), apps and tenants
(``_tenants``), the revocation log (``_revocation_log``).
The tables and their migration are in ``_schema``; what differs between databases is
in ``_dialect`` and its subclasses.
"""

from __future__ import annotations

from typing import Any

from ._dialect import Dialect
from ._keys import SqlKeys
from ._limits import SqlSessionLimits
from ._pool import ConnectionPool
from ._revocation_log import RevocationLog, SqlRevocations
from ._schema import TABLES, create_or_migrate
from ._sessions import SqlSessions
from ._tenants import SqlTenants
from ._tracing import trace_calls
from .base import AppStore, SessionStore

__all__ = ["SqlStore"]


class SqlStore(SqlSessions, SqlSessionLimits, SqlKeys, SqlRevocations, SqlTenants):
    """A ``SessionStore`` (and ``AppStore``) over any ``Dialect``. Build it with
    ``tessera.storage.open_store``."""

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
        self.dialect.close()


#: The calls that reach the database: the store interface (read from its protocols, so
#: a call added there is traced too), less what does no database work, and the live
#: session count of the metrics.
TRACED_CALLS = sorted(
    {
        name
        for protocol in (SessionStore, AppStore)
        for name, value in vars(protocol).items()
        if callable(value) and not name.startswith("_")
    }
    - {"for_app", "close"}
    | {"count_live_sessions"}
)
trace_calls(SqlStore, TRACED_CALLS)
