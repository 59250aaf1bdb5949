"""A real core for the admin API and console tests: on loopback, over a chosen
database, with its log at hand and a store that reads the same tables."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tessera import Tessera
from tessera.storage import SqlStore, open_store

from .cores import free_port, launch_core, wait_until_up
from .databases import SERVER_URLS

KEY = "admin-test-key-0123456789abc"


@dataclass
class AdminCore:
    url: str
    home: Path
    database_url: str
    prefix: str
    key: str | None
    store: SqlStore
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.key is None else {"api-key": self.key}

    def log(self) -> str:
        return (self.home / "core.log").read_text()

    def audit(self) -> list[dict[str, Any]]:
        """The audit records in the core's log (the JSON after the logger's prefix)."""
        marker = " tessera.audit: "
        return [
            json.loads(line.split(marker, 1)[1])
            for line in self.log().splitlines()
            if marker in line
        ]

    def app_object(self) -> Tessera:
        """An app object over the core's tables, to make sessions with an address and a
        user agent (the CDI has no field for them). Close it after use."""
        return Tessera(
            self.database_url, table_name_prefix=self.prefix, expired_session_purge_interval=0
        )


def database_for(backend: str, home: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{home}/core.db"
    url = SERVER_URLS[backend]
    try:
        probe = open_store(url, table_name_prefix=f"p{uuid.uuid4().hex[:8]}_", pool_size=1)
        probe.drop_tables()
        probe.close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {backend}: {exc}")
        pytest.skip(f"{backend} not reachable: {exc}")
    return url


@contextlib.contextmanager
def admin_core(
    home: Path, backend: str = "sqlite", *, key: str | None = KEY, **settings: str
) -> Iterator[AdminCore]:
    """A core on ``backend`` with ``key`` (None: no key) and ``settings``."""
    home.mkdir(parents=True, exist_ok=True)
    database_url = database_for(backend, home)
    prefix = f"a{uuid.uuid4().hex[:8]}_"
    if key is not None:
        settings["api_keys"] = key
    port = free_port()
    settings.update(database_url=database_url, table_name_prefix=prefix)
    process = launch_core(home, port, new_session=False, **settings)
    store: SqlStore | None = None
    try:
        url = wait_until_up(port, process, home)
        store = open_store(database_url, table_name_prefix=prefix, pool_size=2)
        yield AdminCore(url, home, database_url, prefix, key, store, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if store is not None:
            store.drop_tables()
            store.close()
