"""The whole request path of ``verify_session()`` in FastAPI, this checkout against an
older one, in the same run: did a change slow the hot path?

    git worktree add /tmp/before <commit>
    .venv/bin/python -m bench.verify_before_after --before /tmp/before   # about 2 minutes

Each side runs in a fresh process with its own ``src`` first on ``sys.path``, and calls
the ASGI application of ``bench.http_verify`` (a FastAPI route with
``Depends(verify_session())`` behind ``TesseraMiddleware``, and the same route doing a
bare RS256 check with ``cryptography``) directly, without a network: 5,000 sessions,
each request carrying another one's access token, so every request pays the signature
check as a real server under many users does. Rounds alternate the sides; each round
reports the median CPU time per request of five passes. The report gives, per side, the
median over rounds, and the ratio ``before / after`` of the verify row (1.0: unchanged;
0.97: 3% slower), with the bare row as the control that should not move.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

_CHILD = r"""
import asyncio, json, os, sys, tempfile, time
sys.path.insert(0, os.environ["BENCH_REPO"])
os.environ["BENCH_DATABASE"] = f"sqlite:///{tempfile.mkdtemp()}/b.db"
from bench.http_verify import build_app
import tessera
app = build_app()
maker = tessera.Tessera(os.environ["BENCH_DATABASE"], expired_session_purge_interval=0)
tokens = [maker.syncio.create_new_session(f"u{i}").get_access_token().encode()
          for i in range(int(os.environ["BENCH_SESSIONS"]))]

async def call(path, token):
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"x"), (b"authorization", b"Bearer " + token),
                         (b"st-auth-mode", b"header")]}
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    status = []
    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])
    await app(scope, receive, send)
    return status[0]

async def main():
    out = {}
    for path in ("/plain/bare", "/tessera/verified"):
        assert await call(path, tokens[0]) == 200, path
        passes = []
        for _ in range(5):
            started = time.process_time()
            for token in tokens:
                await call(path, token)
            passes.append((time.process_time() - started) / len(tokens) * 1e6)
        out[path] = sorted(passes)[2]
    print(json.dumps(out))

asyncio.run(main())
"""


def _measure(repo: Path, sessions: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "BENCH_REPO": str(repo)}
    env["BENCH_SESSIONS"] = str(sessions)
    with tempfile.TemporaryDirectory() as home:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD], env=env, cwd=home, capture_output=True, text=True
        )
    if done.returncode != 0:
        raise SystemExit(f"{repo}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="an older checkout")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=5000)
    args = parser.parse_args(argv)
    sides = {"before": args.before.resolve(), "after": HERE}
    rows: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for side in order:
            for path, micros in _measure(sides[side], args.sessions).items():
                rows[side].setdefault(path, []).append(micros)
    print(f"CPU µs per request, median of {args.rounds} rounds ({args.sessions} sessions)")
    for path in ("/plain/bare", "/tessera/verified"):
        before = statistics.median(rows["before"][path])
        after = statistics.median(rows["after"][path])
        ratio = before / after
        print(f"  {path:20s} before {before:7.1f}  after {after:7.1f}  before/after {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
