"""Session stores, chosen by database URL.

``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
``postgresql://user:password@host:5432/db`` and ``mysql://user:password@host:3306/db``
(MariaDB too). The PostgreSQL and MySQL drivers are optional extras, imported only when
their store is chosen.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._pool import Timeouts
from ._store import SqlStore
from .base import (
    KeyRecord,
    LimitedCreation,
    SessionActivity,
    SessionLimit,
    SessionMatch,
    SessionRecord,
    SessionStore,
    StoredKeyMaterial,
)

__all__ = [
    "KeyRecord",
    "LimitedCreation",
    "SessionActivity",
    "SessionLimit",
    "SessionMatch",
    "SessionRecord",
    "SessionStore",
    "SqlStore",
    "StoredKeyMaterial",
    "Timeouts",
    "open_store",
]


def open_store(
    url: str,
    *,
    table_name_prefix: str = "tessera_",
    pool_size: int = 10,
    timeouts: Timeouts | None = None,
) -> SqlStore:
    """Open (and create or migrate the tables of) the store at ``url``; ``timeouts``
    bound every wait on the database (``Timeouts()`` when not given)."""
    if not isinstance(url, str):
        raise TypeError("the database URL must be a string")
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        from .sqlite import SqliteDialect

        path = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
        if not path:
            raise ValueError("a sqlite URL needs a path: sqlite:///sessions.db")
        size = 1 if path == ":memory:" else pool_size
        return SqlStore(SqliteDialect(path, timeouts), prefix=table_name_prefix, pool_size=size)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresDialect

        return SqlStore(
            PostgresDialect(url, timeouts), prefix=table_name_prefix, pool_size=pool_size
        )
    if scheme in ("mysql", "mariadb"):
        from .mysql import MysqlDialect

        return SqlStore(MysqlDialect(url, timeouts), prefix=table_name_prefix, pool_size=pool_size)
    raise ValueError(
        f"unsupported database URL scheme {scheme!r}: use sqlite:///, postgresql:// or mysql://"
    )
