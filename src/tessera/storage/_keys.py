"""Signing keys and named secrets, per app.

Both are written by whichever process gets there first and read by all: a duplicate
insert is ignored rather than an error, so processes starting together agree on one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._sql import SqlTables, batches, marks
from .base import KeyRecord

__all__ = ["SqlKeys"]


class SqlKeys(SqlTables):
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
        for chunk in batches(kids):
            self._execute(
                f"DELETE FROM {self._keys} WHERE app_id = ? AND kid IN ({marks(len(chunk))})",
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
