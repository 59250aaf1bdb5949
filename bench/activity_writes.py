"""How often last activity is written under load: UPDATEs per session per minute.

    .venv/bin/python -m bench.activity_writes                   # 1,000 sessions, 1 minute
    .venv/bin/python -m bench.activity_writes --processes 4 --minutes 5
    .venv/bin/python -m bench.activity_writes --database postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.activity_writes --quick           # does it run?

``--sessions`` sessions of one app are verified ``--rate`` times a second in all (each
verification picks a session at random, seeded), spread over ``--processes`` ``Tessera``
objects over one database (like worker processes: each has its own memo and writer),
for ``--minutes`` minutes of a fake clock that moves 1/rate s per verification. The
sessions were created ten minutes before the run starts, so every one is due at once:
the worst start. After each simulated second each writer is flushed, as its thread,
which writes within milliseconds, would have done by then.

It counts the UPDATE statements the writers sent (one per record: a session due in a
process) and the rows they changed (the database's condition lets one process's record
through per interval), and prints both per session per minute, beside the verifications
per session per minute (what writing on every verify would cost).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tessera import Tessera
from tessera.storage import open_store

__all__ = ["Settings", "main", "run"]

MINUTE_MS = 60_000


@dataclass(frozen=True)
class Settings:
    sessions: int = 1000
    rate: int = 1000  # verifications per simulated second, all processes together
    minutes: float = 1.0
    processes: int = 1
    interval: float = 60.0  # activity_write_interval, seconds
    seed: int = 7

    @classmethod
    def quick(cls) -> Settings:
        return cls(sessions=20, rate=50, minutes=0.1, processes=2, interval=2.0)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def run(settings: Settings, database: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        url = database or f"sqlite:///{home}/bench.db"
        prefix = f"b{uuid.uuid4().hex[:8]}_"
        clock = Clock(1_800_000_000_000)
        apps = [
            Tessera(
                store=open_store(url, table_name_prefix=prefix, pool_size=2),
                clock=clock,
                metrics=False,
                expired_session_purge_interval=0,
                activity_write_interval=settings.interval,
            )
            for _ in range(settings.processes)
        ]
        try:
            return _measure(settings, apps, clock, url)
        finally:
            drop = getattr(apps[0].store, "drop_tables", None)
            if drop is not None:
                drop()
            for app in apps:
                app.close()


def _measure(settings: Settings, apps: list[Tessera], clock: Clock, url: str) -> dict[str, Any]:
    maker = apps[0]
    tokens = [
        maker.syncio.create_new_session(f"u{i}").get_access_token()
        for i in range(settings.sessions)
    ]
    clock.now += 10 * MINUTE_MS
    pick = random.Random(settings.seed)
    step_ns = 1_000_000_000 // settings.rate
    seconds = round(settings.minutes * 60)
    started = time.perf_counter()
    elapsed_ns = 0
    start_ms = clock.now
    verifies = 0
    for _ in range(seconds):
        for _ in range(settings.rate):
            elapsed_ns += step_ns
            clock.now = start_ms + elapsed_ns // 1_000_000
            app = apps[pick.randrange(len(apps))]
            app.syncio.get_session_without_request_response(
                tokens[pick.randrange(len(tokens))], ip="198.51.100.7", user_agent="bench"
            )
            verifies += 1
        for app in apps:
            app.flush_activity()
    took = time.perf_counter() - started
    stats = [app.activity.writer.stats() for app in apps if app.activity is not None]
    statements = sum(s.submitted for s in stats)
    changed = sum(s.changed for s in stats)
    per = settings.sessions * settings.minutes
    return {
        "settings": asdict(settings),
        "database": url.split(":", 1)[0],
        "verifications": verifies,
        "update_statements": statements,
        "rows_written": changed,
        "batches": sum(s.batches for s in stats),
        "dropped": sum(s.dropped for s in stats),
        "verifications_per_session_minute": verifies / per,
        "statements_per_session_minute": statements / per,
        "writes_per_session_minute": changed / per,
        "seconds": took,
    }


def format_result(result: dict[str, Any]) -> str:
    s = result["settings"]
    return "\n".join(
        [
            f"activity writes on {result['database']}: {s['sessions']} sessions, "
            f"{s['rate']} verifications/s over {s['processes']} process(es), "
            f"{s['minutes']} min, activity_write_interval {s['interval']} s",
            f"  verifications          {result['verifications']:>9}  "
            f"({result['verifications_per_session_minute']:.1f} per session per minute)",
            f"  UPDATE statements sent {result['update_statements']:>9}  "
            f"({result['statements_per_session_minute']:.2f} per session per minute, "
            f"{result['batches']} batches)",
            f"  rows written           {result['rows_written']:>9}  "
            f"({result['writes_per_session_minute']:.2f} per session per minute)",
            f"  records dropped        {result['dropped']:>9}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run: does it work?")
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--rate", type=int, help="verifications per simulated second")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--interval", type=float, help="activity_write_interval, seconds")
    parser.add_argument("--database", help="a database URL (default: SQLite, temporary)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    changes = {
        k: v for k, v in vars(args).items() if k in Settings.__dataclass_fields__ and v is not None
    }
    settings = Settings(**{**asdict(settings), **changes})
    result = run(settings, args.database)
    print(format_result(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
