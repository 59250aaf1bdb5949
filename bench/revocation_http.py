"""Requests per second of a protected FastAPI endpoint with access-token blacklisting
served by the revocation feed, against no blacklisting and against the database read
that blacklisting cost before the feed. Measured with wrk on loopback.

    .venv/bin/python -m bench.revocation_http                     # SQLite, 8 s x 3 rounds
    .venv/bin/python -m bench.revocation_http --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python -m bench.revocation_http --duration 1 --rounds 1 --tokens 50

One uvicorn process serves three apps over the same database, each behind
``TesseraMiddleware`` with ``Depends(verify_session())``:

* ``/off/verified``: ``access_token_blacklisting=False`` (signature check only);
* ``/feed/verified``: ``access_token_blacklisting=True``, the revocation feed healthy (a
  signature check, or the verified-token memory, plus a set lookup);
* ``/db/verified``: ``access_token_blacklisting=True`` with the feed taken away: one
  primary-key read per request, as before the feed.

wrk rotates through ``--tokens`` distinct sessions (more than the 4096-entry memory of
verified tokens by default, so each request pays a signature check). Rounds alternate
the order of the rows; the table gives the median requests/s.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

if not __package__:  # run as a script: make "tessera" and "bench" importable as usual
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_verify import _LUA, _free_port, _wrk

ROWS = [
    ("no blacklisting", "/off/verified"),
    ("blacklisting, feed", "/feed/verified"),
    ("blacklisting, db read", "/db/verified"),
]


def build_app() -> Any:
    """The uvicorn factory (runs in the server process). FastAPI reads the endpoint's
    annotations at run time, so this module does not postpone them."""
    from fastapi import Depends, FastAPI

    import tessera
    from tessera.framework import FrameworkConfig
    from tessera.framework.fastapi import Session, TesseraMiddleware, verify_session

    database = os.environ["BENCH_DATABASE"]
    prefix = os.environ["BENCH_PREFIX"]
    apps: dict[str, Any] = {}
    for name, blacklisting in (("off", False), ("feed", True), ("db", True)):
        engine = tessera.Tessera(
            database,
            table_name_prefix=prefix,
            access_token_blacklisting=blacklisting,
            expired_session_purge_interval=0,
        )
        if name == "feed" and not engine.revocations.wait_until_healthy(30):
            raise RuntimeError("the revocation feed did not become healthy")
        if name == "db":
            engine.engine.revocations = None  # every verification reads the database
        app = FastAPI()

        @app.get(f"/{name}/verified")
        async def verified(_: Annotated[Session, Depends(verify_session())]) -> dict[str, bool]:
            return {"ok": True}

        app.add_middleware(TesseraMiddleware, tessera=engine, config=FrameworkConfig())
        apps[name] = app

    async def router(scope: Any, receive: Any, send: Any) -> None:
        name = scope.get("path", "/off/").split("/")[1] if scope["type"] == "http" else "off"
        await apps.get(name, apps["off"])(scope, receive, send)

    return router


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the benchmark server did not start") from None
            time.sleep(0.2)


def run(
    database: str | None, duration: int, rounds: int, connections: int, tokens: int
) -> dict[str, Any]:
    import tessera

    prefix = f"rh{uuid.uuid4().hex[:8]}_"
    with tempfile.TemporaryDirectory() as tmp:
        database = database or f"sqlite:///{tmp}/bench.db"
        maker = tessera.Tessera(
            database, table_name_prefix=prefix, expired_session_purge_interval=0
        )
        try:
            minted = [
                maker.syncio.create_new_session(f"user-{n}").get_access_token()
                for n in range(tokens)
            ]
            token_file = Path(tmp) / "tokens.txt"
            token_file.write_text("\n".join(minted) + "\n")
            script = Path(tmp) / "rotate.lua"
            script.write_text(_LUA % token_file)
            port = _free_port()
            env = {**os.environ, "BENCH_DATABASE": database, "BENCH_PREFIX": prefix}
            command = [sys.executable, "-m", "uvicorn", "--factory"]
            command += ["bench.revocation_http:build_app", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
            server = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[1])
            try:
                _wait_for(port, server)
                base = f"http://127.0.0.1:{port}"
                for _, path in ROWS:  # warm up, and check every endpoint answers 200
                    _wrk(base + path, minted[0], 1, connections, str(script))
                results: dict[str, list[float]] = {label: [] for label, _ in ROWS}
                for number in range(rounds):
                    for label, path in ROWS if number % 2 == 0 else ROWS[::-1]:
                        rps = _wrk(base + path, minted[0], duration, connections, str(script))
                        results[label].append(rps)
            finally:
                server.terminate()
                server.wait(timeout=15)
        finally:
            maker.store.drop_tables()  # type: ignore[attr-defined]
            maker.close()
    medians = {label: statistics.median(values) for label, values in results.items()}
    return {"database": database.split(":", 1)[0], "rounds": results, "medians": medians}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--duration", type=int, default=8, help="seconds per row per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=5000, help="distinct sessions to rotate")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    result = run(args.database, args.duration, args.rounds, args.connections, args.tokens)
    medians = result["medians"]
    print(f"{result['database']}, wrk -c{args.connections}, {args.duration} s x {args.rounds}")
    print(f"{'row':<24}{'median req/s':>14}   rounds")
    for label, _ in ROWS:
        rounds = ", ".join(f"{v:.0f}" for v in result["rounds"][label])
        print(f"{label:<24}{medians[label]:>14.0f}   {rounds}")
    feed = medians["blacklisting, feed"] / medians["no blacklisting"]
    print(f"blacklisting with the feed / without blacklisting: {feed:.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
