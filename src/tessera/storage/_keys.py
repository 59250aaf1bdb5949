"""Signing keys and named secrets, per app.

Both are written by whichever process gets there first and read by all: a duplicate
insert is ignored rather than an error, so processes starting together agree on one.
The values are strings the engine gives, sealed or not (``engine/key_wrapping.py``);
only re-encryption changes one, by a compare-and-swap on the value it read.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._sql import SqlTables, batches, marks
from .base import KeyRecord, StoredKeyMaterial

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

    def list_key_material(self, *, every_app: bool = False) -> list[StoredKeyMaterial]:
        where, params = ("", ()) if every_app else (" WHERE app_id = ?", (self.app_id,))
        keys = self._fetch(
            f"SELECT app_id, kid, private_key FROM {self._keys}{where} ORDER BY app_id, kid",
            params,
        )
        named = self._fetch(
            f"SELECT app_id, name, value FROM {self._secrets}{where} ORDER BY app_id, name",
            params,
        )
        return [StoredKeyMaterial("signing_key", *map(str, r)) for r in keys] + [
            StoredKeyMaterial("secret", *map(str, r)) for r in named
        ]

    def replace_key_material(self, item: StoredKeyMaterial, value: str) -> bool:
        if item.kind not in ("signing_key", "secret"):
            raise ValueError(f"unknown kind of key material {item.kind!r}")
        table, name, column = (
            (self._keys, "kid", "private_key")
            if item.kind == "signing_key"
            else (self._secrets, "name", "value")
        )
        changed = self._execute(
            f"UPDATE {table} SET {column} = ? WHERE app_id = ? AND {name} = ? AND {column} = ?",
            (value, item.app_id, item.name, item.value),
        )
        return changed == 1
