"""Propagation lag of revocations: from the revoking statement to the moment each of
several other processes has the handle in its deny set.

    .venv/bin/python -m bench.revocation_lag              # 1,000 revocations, 4 processes
    .venv/bin/python -m bench.revocation_lag --setups postgresql --revocations 200

Setups: ``postgresql`` (LISTEN/NOTIFY), ``mysql+redis`` (MariaDB or MySQL as the database,
Redis pub/sub as the signal), ``sqlite`` (one machine, polling). For each, this process
creates sessions and then revokes them one at a time at ``--rate`` per second; each of
``--processes`` spawned verifier processes runs a revocation feed and records, for every
revocation it applies, its wall clock minus the log row's timestamp (the database's
clock when the revoking statement ran, so commit time is included). Reported: p50, p99
and the maximum over all processes, in milliseconds, beside the staleness bound.
Servers: ``TESSERA_TEST_POSTGRES_URL``, ``TESSERA_TEST_MYSQL_URL``, ``TESSERA_TEST_REDIS_URL``
(defaults: the loopback servers of the test suite). An unreachable one is skipped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make "tessera" and "bench" importable as usual
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera import StorageError, Tessera

URLS = {
    "postgresql": os.environ.get(
        "TESSERA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TESSERA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    "redis": os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}
SETUPS = ("postgresql", "mysql+redis", "sqlite")


def _verifier(connection: Connection, url: str, settings: dict[str, Any]) -> None:
    t = Tessera(url, **settings)
    lags: list[float] = []
    observe = t.revocations._lag.observe

    def record(lag_ms: float) -> None:
        lags.append(lag_ms)
        observe(lag_ms)

    t.revocations._lag.observe = record  # type: ignore[method-assign]
    try:
        connection.send(t.revocations.wait_until_healthy(30))
        while True:
            command = connection.recv()
            if command == "count":
                connection.send(len(lags))
            elif command == "lags":
                connection.send(lags)
                return
    finally:
        t.close()
        connection.close()


def _settings(setup: str, prefix: str) -> tuple[str, dict[str, Any]]:
    settings: dict[str, Any] = {
        "table_name_prefix": prefix,
        "access_token_blacklisting": True,
        "expired_session_purge_interval": 0,
    }
    if setup == "postgresql":
        return URLS["postgresql"], settings
    if setup == "mysql+redis":
        return URLS["mysql"], {**settings, "revocation_channel": URLS["redis"]}
    if setup == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="tessera-lag-")) / "lag.db"
        return f"sqlite:///{path}", settings
    raise ValueError(f"unknown setup {setup!r}: choose from {', '.join(SETUPS)}")


def run_setup(setup: str, revocations: int, processes: int, rate: float) -> dict[str, Any]:
    prefix = f"lag{uuid.uuid4().hex[:8]}_"
    url, settings = _settings(setup, prefix)
    revoker = Tessera(url, **settings)
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    children: list[Any] = []
    try:
        handles = [
            revoker.syncio.create_new_session(f"user-{n}").get_handle() for n in range(revocations)
        ]
        for _ in range(processes):
            ours, theirs = context.Pipe()
            child = context.Process(target=_verifier, args=(theirs, url, settings), daemon=True)
            child.start()
            theirs.close()
            pipes.append(ours)
            children.append(child)
        if not all(pipe.recv() for pipe in pipes):
            raise RuntimeError("a verifier's feed did not become healthy")
        interval = 1.0 / rate
        started = time.monotonic()
        for n, handle in enumerate(handles):
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            revoker.syncio.revoke_session(handle)
        deadline = time.monotonic() + 30
        for pipe in pipes:
            while True:
                pipe.send("count")
                if pipe.recv() >= revocations or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        lags: list[float] = []
        for pipe in pipes:
            pipe.send("lags")
            lags += pipe.recv()
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
        for pipe in pipes:
            pipe.close()
        revoker.store.drop_tables()  # type: ignore[attr-defined]
        revoker.close()
    lags.sort()
    expected = revocations * processes
    return {
        "setup": setup,
        "revocations": revocations,
        "processes": processes,
        "rate_per_s": rate,
        "applied": len(lags),
        "missing": expected - len(lags),
        "p50_ms": statistics.median(lags) if lags else None,
        "p99_ms": lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else None,
        "max_ms": lags[-1] if lags else None,
        "bound_ms": revoker.config.revocation_max_staleness * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--revocations", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0, help="revocations per second")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for setup in args.setups.split(","):
        try:
            results.append(run_setup(setup, args.revocations, args.processes, args.rate))
        except (StorageError, OSError, ImportError) as exc:
            skipped[setup] = str(exc)
    print(f"{args.revocations} revocations at {args.rate:g}/s, {args.processes} other processes")
    print(f"{'setup':<14}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'bound ms':>10}  missing")
    for r in results:
        print(
            f"{r['setup']:<14}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['bound_ms']:>10.0f}  {r['missing']}"
        )
    for setup, why in skipped.items():
        print(f"{setup:<14}(skipped: {why})")
    if args.json is not None:
        args.json.write_text(json.dumps({"results": results, "skipped": skipped}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
