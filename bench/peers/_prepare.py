"""Tokens and stored sessions made before anything is measured, in bulk, one process per
library so they are made in parallel: ``python -m bench.peers._prepare KIND FOLDER`` with the
target's environment, plus ``BENCH_TOKENS_N`` (access tokens), ``BENCH_REFRESH_N`` (refresh
tokens per slot), ``BENCH_SLOTS`` (comma-separated slots: one refresh-token file and one
set of bulk users each) and ``BENCH_BULK`` (``users x sessions`` per slot).

Writes ``FOLDER/access.txt`` (one access token a line, each from a distinct session or
login) and ``FOLDER/refresh-<slot>.txt``. Each library mints with its own API: tessera
through its session functions against the same database and keys as the server; the peers
through ``mint_tokens`` in their app modules, with the app's own settings.
"""

from __future__ import annotations

import importlib
import os
import secrets
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["bulk_user", "main"]


def bulk_user(slot: str, rep: int) -> str:
    """The user whose stored sessions are listed and revoked, per slot and repetition."""
    return f"bulk-{slot}-{rep}"


def _ints(name: str) -> int:
    return int(os.environ[name])


def _write(path: Path, tokens: list[str]) -> None:
    if not all(tokens):
        raise RuntimeError(f"empty token among {path.name}")
    path.write_text("\n".join(tokens) + "\n")


def _tessera(folder: Path, slots: list[str]) -> None:
    from tessera import Tessera
    from tessera.storage.base import SessionRecord

    tessera = Tessera(os.environ["BENCH_DATABASE"], table_name_prefix=os.environ["BENCH_PREFIX"])
    threads = 1 if os.environ["BENCH_DATABASE"].startswith("sqlite") else 6

    def create(user: str) -> Any:
        return tessera.syncio.create_new_session(user).get_all_session_tokens_dangerously()

    with ThreadPoolExecutor(threads) as pool:
        made = list(pool.map(create, (f"v{i % 1000}" for i in range(_ints("BENCH_TOKENS_N")))))
        _write(folder / "access.txt", [m["accessToken"] for m in made])
        for slot in slots:
            made = list(pool.map(create, (f"r{i}" for i in range(_ints("BENCH_REFRESH_N")))))
            _write(folder / f"refresh-{slot}.txt", [m["refreshToken"] for m in made])
        # The users whose sessions are listed and revoked: rows shaped like the engine's
        # own, written through the store (no token is needed, so nothing is signed).
        users, per_user = (int(x) for x in os.environ["BENCH_BULK"].split("x"))
        now = int(time.time() * 1000)
        records = [
            SessionRecord(
                session_handle=str(uuid.uuid4()),
                tenant_id="public",
                user_id=bulk_user(slot, rep),
                refresh_token_hash=secrets.token_hex(32),
                previous_refresh_token_hash=None,
                refresh_token_rotated_at=None,
                session_data={},
                access_token_payload={},
                created_at=now,
                expires_at=now + 100 * 86_400_000,
                last_refreshed_at=now,
                ip="127.0.0.1",
                user_agent="bench",
                use_static_key=False,
                last_active_at=now,
            )
            for slot in slots
            for rep in range(users)
            for _ in range(per_user)
        ]
        list(pool.map(tessera.store.create_session, records))
    tessera.close()


def _peer(folder: Path, module: str, refresh_slot: str) -> None:
    """A peer's tokens, made by ``mint_tokens`` in its app module with its own API."""
    app = importlib.import_module(f"bench.peers.apps.{module}")
    access, refresh = app.mint_tokens(_ints("BENCH_TOKENS_N"), _ints("BENCH_REFRESH_N"))
    _write(folder / "access.txt", access)
    if refresh:
        _write(folder / f"refresh-{refresh_slot}.txt", refresh)


#: kind -> (app module, refresh-token slot)
_PEERS = {
    "fje": ("fje_flask", "fje"),
    "fastapi-users": ("fastapi_users_app", "-"),
    "simplejwt": ("simplejwt_django", "simplejwt"),
}


def main(argv: list[str]) -> int:
    kind, folder = argv[0], Path(argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    slots = [s for s in os.environ.get("BENCH_SLOTS", "").split(",") if s]
    if kind == "tessera":
        _tessera(folder, slots)
    elif kind in _PEERS:
        _peer(folder, *_PEERS[kind])
    else:
        raise SystemExit(f"unknown kind {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
