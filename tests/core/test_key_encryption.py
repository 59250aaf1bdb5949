"""The core with ``key_encryption_keys``, over HTTP: every app's keys and secrets
encrypted at rest, turned on under running sessions with ``tessera keys rewrap`` (run as
a command), a core that lacks the key refusing to start, and an embedded app sharing
the core's database and keys."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tessera import Tessera
from tessera.engine.key_wrapping import (
    PREFIX,
    KeyWrapper,
    generate_key_encryption_key,
    key_encryption_key_id,
    sealed_with,
    secret_row,
    signing_key_row,
)
from tessera.storage import SqlStore
from tests._support import cdi
from tests._support.cores import free_port, launch_core, wait_until_up
from tests._support.databases import database_url

K1 = generate_key_encryption_key()
K1_ID = key_encryption_key_id(K1)


@contextlib.contextmanager
def running_core(home: Path, **settings: str) -> Iterator[str]:
    """A core (``tessera start --foreground``) for the length of the block."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = launch_core(home, port, new_session=False, **settings)
    try:
        yield wait_until_up(port, process, home)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def keys_command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``tessera keys ...`` as an operator runs it, with ``env`` as its environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "tessera", "keys", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored_rows(path: Path) -> list[tuple[str, str, str, str]]:
    """(kind, app id, kid or name, value) of every key and secret, read with SQL."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        keys = db.execute("SELECT app_id, kid, private_key FROM tessera_signing_keys").fetchall()
        secrets = db.execute("SELECT app_id, name, value FROM tessera_secrets").fetchall()
    return [("signing_key", *row) for row in keys] + [("secret", *row) for row in secrets]


def test_a_core_with_keys_encrypts_every_apps_keys_and_secrets(tmp_path: Path) -> None:
    db = tmp_path / "core.db"
    with running_core(
        tmp_path / "home", database_url=f"sqlite:///{db}", tessera_key_encryption_keys=K1
    ) as core:
        access, refresh = cdi.tokens(cdi.create(core))
        assert cdi.verify(core, access)["status"] == "OK"
        access, refresh = cdi.tokens(cdi.refresh(core, refresh))
        assert cdi.put_app(core, "shop").status_code == 200
        shop = f"{core}/appid-shop"
        shop_access, _ = cdi.tokens(cdi.create(shop))
        assert cdi.verify(shop, shop_access)["status"] == "OK"
        assert cdi.verify(core, shop_access)["status"] == "TRY_REFRESH_TOKEN"  # shop's keys
    rows = stored_rows(db)
    assert {(kind, app) for kind, app, _, _ in rows} == {
        ("signing_key", "public"),
        ("secret", "public"),
        ("signing_key", "shop"),
        ("secret", "shop"),
    }
    wrapper = KeyWrapper([K1])
    for kind, app, name, value in rows:
        assert sealed_with(value) == K1_ID
        assert "PRIVATE KEY" not in value
        row = signing_key_row(app, name) if kind == "signing_key" else secret_row(app, name)
        assert wrapper.open(value, row)
        other = "shop" if app == "public" else "public"
        moved = signing_key_row(other, name) if kind == "signing_key" else secret_row(other, name)
        with pytest.raises(Exception, match="does not decrypt"):
            wrapper.open(value, moved)


def test_turning_it_on_under_live_sessions_and_rewrapping_with_the_command(
    tmp_path: Path,
) -> None:
    db = tmp_path / "core.db"
    url = f"sqlite:///{db}"
    with running_core(tmp_path / "plain", database_url=url) as core:
        first_access, refresh = cdi.tokens(cdi.create(core))
    assert not any(value.startswith(PREFIX) for *_, value in stored_rows(db))
    rows = len(stored_rows(db))  # the dynamic and the static signing key, the secret
    assert rows == 3

    refused = keys_command("rewrap", DATABASE_URL=url)
    assert refused.returncode == 2
    assert "no key_encryption_keys configured" in refused.stderr

    keyed = {"database_url": url, "tessera_key_encryption_keys": K1}
    with running_core(tmp_path / "on", **keyed) as core:
        # Plain rows still read: turning it on logs nobody out.
        assert cdi.verify(core, first_access)["status"] == "OK"
        access, refresh = cdi.tokens(cdi.refresh(core, refresh))

        rewrapped = keys_command("rewrap", DATABASE_URL=url, TESSERA_KEY_ENCRYPTION_KEYS=K1)
        assert rewrapped.returncode == 0, rewrapped.stderr
        assert f"re-encrypted {rows} rows under key {K1_ID}; 0 were already" in rewrapped.stdout
        again = keys_command("rewrap", DATABASE_URL=url, TESSERA_KEY_ENCRYPTION_KEYS=K1)
        assert again.returncode == 0, again.stderr
        assert "re-encrypted 0 rows" in again.stdout
        assert f"{rows} were already under it" in again.stdout
        status = keys_command("status", DATABASE_URL=url, TESSERA_KEY_ENCRYPTION_KEYS=K1)
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"under {K1_ID}: {rows}" in status.stdout
        assert all(sealed_with(value) == K1_ID for *_, value in stored_rows(db))

        # The running core goes on serving the session it knew.
        assert cdi.verify(core, access)["status"] == "OK"
        access, refresh = cdi.tokens(cdi.refresh(core, refresh))

    with running_core(tmp_path / "after", **keyed) as core:
        # A core started after the rewrap decrypts the same key: the token signed before
        # encryption was turned on still verifies, and the session refreshes.
        assert cdi.verify(core, first_access)["status"] == "OK"
        assert cdi.verify(core, access)["status"] == "OK"
        cdi.tokens(cdi.refresh(core, refresh))

    # Without the key, a core refuses to start and says which key it lacks.
    home = tmp_path / "without"
    home.mkdir()
    process = launch_core(home, free_port(), database_url=url)
    assert process.wait(timeout=60) != 0
    log = (home / "core.log").read_text()
    assert f"encrypted with key-encryption key {K1_ID}" in log
    assert "key_encryption_keys" in log
    status = keys_command("status", DATABASE_URL=url)
    assert status.returncode == 1
    assert f"under {K1_ID}: {rows} (this key is not configured)" in status.stdout


def test_bad_keys_stop_the_start_naming_the_setting(tmp_path: Path) -> None:
    process = launch_core(
        tmp_path, free_port(), tessera_key_encryption_keys="not-a-key", workers="1"
    )
    assert process.wait(timeout=60) == 2
    log = (tmp_path / "core.log").read_text()
    assert "invalid config key_encryption_keys: key 1 is not 32 bytes" in log
    assert "not-a-key" not in log
    generated = keys_command("generate")
    assert generated.returncode == 0
    assert key_encryption_key_id(generated.stdout.strip())  # a valid key


def test_an_embedded_app_and_a_core_share_one_database_and_its_keys(
    backend: str, tmp_path: Path, table_prefix: str, store_factory: Callable[..., SqlStore]
) -> None:
    store_factory()  # the tables (skips if the server is down), dropped after
    store = store_factory()
    embedded = Tessera(store=store, key_encryption_keys=[K1], expired_session_purge_interval=0)
    try:
        made_here = embedded.syncio.create_new_session(
            "user-1"
        ).get_all_session_tokens_dangerously()
        settings = {
            "database_url": database_url(backend, tmp_path),
            "table_name_prefix": table_prefix,
            "tessera_key_encryption_keys": K1,
        }
        with running_core(tmp_path / "home", **settings) as core:
            # The core decrypts the key and secret the app made...
            assert cdi.verify(core, str(made_here["accessToken"]))["status"] == "OK"
            cdi.tokens(cdi.refresh(core, str(made_here["refreshToken"])))
            # ...and the app the ones the core uses.
            access, refresh = cdi.tokens(cdi.create(core, userId="user-2"))
        assert embedded.syncio.get_session_without_request_response(access) is not None
        renewed = embedded.syncio.refresh_session_without_request_response(refresh)
        assert renewed.get_user_id() == "user-2"
        values = [m.value for m in store.list_key_material(every_app=True)]
        assert len(values) == 3  # the dynamic and the static signing key, the secret
        assert all(sealed_with(v) == K1_ID for v in values)
    finally:
        embedded.close()


def test_a_running_core_without_the_key_answers_500_and_makes_no_key(tmp_path: Path) -> None:
    db = tmp_path / "core.db"
    url = f"sqlite:///{db}"
    with (
        running_core(tmp_path / "without", database_url=url) as without,
        running_core(tmp_path / "with", database_url=url, tessera_key_encryption_keys=K1) as keyed,
    ):
        assert cdi.put_app(keyed, "shop").status_code == 200
        access, refresh = cdi.tokens(cdi.create(f"{keyed}/appid-shop"))
        before = stored_rows(db)
        assert {sealed_with(v) for _, app, _, v in before if app == "shop"} == {K1_ID}
        # The core started before the key was given to any process meets the app's
        # encrypted rows as it serves: each request that needs them is a 500 naming the
        # key, never a key of its own, an UNAUTHORISED or a theft.
        shop = f"{without}/appid-shop"
        body = {"accessToken": access, "doAntiCsrfCheck": False, "enableAntiCsrf": False}
        for path, payload in (
            ("/recipe/session/verify", {**body, "checkDatabase": False}),
            ("/recipe/session/refresh", {"refreshToken": refresh, "enableAntiCsrf": False}),
            ("/public/recipe/session", cdi.CREATE),
        ):
            answer = httpx.post(f"{shop}{path}", json=payload)
            assert answer.status_code == 500, (path, answer.text)
            assert f"encrypted with key-encryption key {K1_ID}" in answer.text
        assert stored_rows(db) == before
        # The session is intact: the core with the key still serves it.
        assert cdi.verify(f"{keyed}/appid-shop", access)["status"] == "OK"
        cdi.tokens(cdi.refresh(f"{keyed}/appid-shop", refresh))
    log = (tmp_path / "without" / "core.log").read_text()
    assert f"key-encryption key {K1_ID}" in log
    assert "Traceback" not in log
