"""The key set stays available while the database is down: SDKs that start during an
outage can still verify the tokens they are given."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import jwt

from tessera.core.apps import RECHECK_MS

from .._support.cores import CoreProcesses, free_port, launch_core, wait_until_up

TABLES = ("sessions", "signing_keys", "secrets", "tenants")


def _set_tables_hidden(database: Path, hidden: bool) -> None:
    with sqlite3.connect(database) as connection:
        for table in TABLES:
            old, new = f"tessera_{table}", f"hidden_{table}"
            if not hidden:
                old, new = new, old
            connection.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_jwks_is_served_from_memory_while_the_database_is_down(
    tmp_path: Path, process_groups: CoreProcesses
) -> None:
    port = free_port()
    process = launch_core(tmp_path, port, new_session=True)
    process_groups.append(process)
    url = wait_until_up(port, process, tmp_path)
    create = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}}
    created = httpx.post(f"{url}/recipe/session", json={**create, "enableAntiCsrf": False})
    token = created.json()["accessToken"]["token"]
    _set_tables_hidden(tmp_path / "tessera.db", True)
    try:
        time.sleep(RECHECK_MS / 1000 + 0.3)  # past the app settings' cache
        refused = httpx.post(f"{url}/recipe/session", json={**create, "enableAntiCsrf": False})
        assert refused.status_code == 503  # the database is really out
        during = httpx.get(f"{url}/.well-known/jwks.json")
        assert during.status_code == 200, during.text
        assert during.headers["cache-control"].startswith("max-age=")
        keys = {k["kid"]: k for k in during.json()["keys"]}
        kid = jwt.get_unverified_header(token)["kid"]
        public_key = jwt.PyJWK(keys[kid]).key
        claims = jwt.decode(token, public_key, algorithms=["RS256"])
        assert claims["sub"] == "u1"
    finally:
        _set_tables_hidden(tmp_path / "tessera.db", False)
    after = httpx.get(f"{url}/.well-known/jwks.json")
    assert after.status_code == 200
    assert {k["kid"] for k in after.json()["keys"]} == set(keys)
