"""What recording last activity costs on the hot path: verifying an access token with the
device inventory's activity recording off and on, in the same run.

    .venv/bin/python -m bench.activity_overhead            # about half a minute
    .venv/bin/python -m bench.activity_overhead --quick    # does it run?

One ``Tessera`` object over a SQLite database verifies, as a web adapter does (passing
the client's address and user agent), with activity recording off and on: its engine's
``activity_every_ms`` switches between 0, what ``activity_write_interval=0`` gives, and
60,000, the default. One object for both keeps everything else equal (two objects,
however alike, differ by about 1% in such a loop). While on, each session's activity is
recorded already (as right after its login), so a verification of a token seen before
pays what nearly every one pays: one comparison, kept with the token in the engine's
memory of verified tokens, saying nothing is due; a token seen for the first time also
asks the per-session memo once. The write itself, once a minute per session, happens
on a background thread (``bench.activity_writes`` counts those).

Each round times one batch of verifications off and on, in alternating order, of a
token the object verified before ("again": the cached path, about 2-3 µs, where any
cost shows most) and of tokens it has not ("new": the whole signature check). Per
round the ratio is ``time off / time on`` (1.0: no cost; 0.97: 3% slower) on the wall
clock and on this thread's CPU clock, which other processes disturb less; the report
gives the median over the rounds, the spread, the ratio of the fastest rounds, and the
load average. The garbage collector is paused inside each batch, as ``timeit`` does.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera import Tessera

__all__ = ["Settings", "main", "run"]

IP, AGENT = "198.51.100.7", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass(frozen=True)
class Settings:
    rounds: int = 41
    again_batch: int = 10_000
    new_batch: int = 100

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, again_batch=200, new_batch=5)


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.thread_time()
        work()
        return time.perf_counter() - wall, time.thread_time() - cpu
    finally:
        gc.enable()


def run(settings: Settings) -> dict[str, Any]:
    """Measure; the result holds per-round ratios, their medians and the load."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as home:
        database = f"sqlite:///{home}/bench.db"
        maker = Tessera(database, metrics=False, expired_session_purge_interval=0)
        app = Tessera(
            database, metrics=False, expired_session_purge_interval=0, activity_write_interval=60
        )
        try:
            return _measure(settings, maker, app, load_before)
        finally:
            for one in (maker, app):
                one.close()


def _measure(
    settings: Settings, maker: Tessera, app: Tessera, load_before: tuple[float, ...]
) -> dict[str, Any]:
    every = app.engine.activity_every_ms
    assert every > 0
    modes = {"off": 0, "on": every}
    needed = settings.rounds * settings.new_batch
    sessions = {
        name: [maker.syncio.create_new_session(f"u{i}") for i in range(needed)] for name in modes
    }
    fresh = {name: [s.get_access_token() for s in made] for name, made in sessions.items()}
    for made in sessions.values():  # just created, as after a login: activity recorded
        for session in made:
            app.activity_recorded(session.get_handle(), app.now())
    again = maker.syncio.create_new_session("again")
    app.activity_recorded(again.get_handle(), app.now())
    verify = app.syncio.get_session_without_request_response
    for _ in range(100):  # warm: keys loaded, the repeated token cached
        verify(again.get_access_token(), ip=IP, user_agent=AGENT)
    again_token = again.get_access_token()
    writer = app.activity.writer if app.activity else None
    assert writer is not None
    queued_before = writer.stats().submitted
    kinds = ("again", "new")
    wall: dict[str, dict[str, list[float]]] = {k: {n: [] for n in modes} for k in kinds}
    cpu: dict[str, dict[str, list[float]]] = {k: {n: [] for n in modes} for k in kinds}
    for round_number in range(settings.rounds):
        order = list(modes) if round_number % 2 == 0 else list(reversed(modes))
        for name in order:
            app.engine.activity_every_ms = modes[name]

            def repeated(verify: Any = verify) -> None:
                for _ in range(settings.again_batch):
                    verify(again_token, ip=IP, user_agent=AGENT)

            start = round_number * settings.new_batch
            batch = fresh[name][start : start + settings.new_batch]

            def new(verify: Any = verify, batch: list[str] = batch) -> None:
                for token in batch:
                    verify(token, ip=IP, user_agent=AGENT)

            for kind, work, count in (
                ("again", repeated, settings.again_batch),
                ("new", new, settings.new_batch),
            ):
                w, c = _timed(work)
                wall[kind][name].append(w / count)
                cpu[kind][name].append(c / count)
    app.engine.activity_every_ms = every
    assert app.flush_activity()
    written = writer.stats().submitted - queued_before
    result: dict[str, Any] = {"settings": settings.__dict__, "kinds": {}}
    for kind in kinds:
        row: dict[str, Any] = {}
        for clock, seconds in (("wall", wall[kind]), ("cpu", cpu[kind])):
            ratios = [o / n for o, n in zip(seconds["off"], seconds["on"], strict=True) if n > 0]
            row[clock] = {
                "off_median_us": statistics.median(seconds["off"]) * 1e6,
                "on_median_us": statistics.median(seconds["on"]) * 1e6,
                "ratio_median": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "ratio_of_fastest": min(seconds["off"]) / min(seconds["on"]),
                "ratios": ratios,
            }
        result["kinds"][kind] = row
    result["writes_during_run"] = written
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    result["cpus"] = os.cpu_count()
    return result


def format_result(result: dict[str, Any]) -> str:
    lines = [
        "verify with activity recording off and on "
        "(ratio = time off / time on; 1.0 = no cost; the issue asks >= 0.97)"
    ]
    for kind, row in result["kinds"].items():
        for clock in ("wall", "cpu"):
            r = row[clock]
            lines.append(
                f"  {kind:6} {clock:4} off {r['off_median_us']:7.2f} µs  "
                f"on {r['on_median_us']:7.2f} µs  ratio median {r['ratio_median']:.3f} "
                f"(rounds {r['ratio_min']:.3f} .. {r['ratio_max']:.3f}; "
                f"fastest rounds {r['ratio_of_fastest']:.3f})"
            )
    load = result["load_average"]
    lines.append(
        f"  activity writes during the timed rounds: {result['writes_during_run']}; load "
        f"average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after, "
        f"{result['cpus']} CPUs; {result['settings']['rounds']} rounds"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few operations: does it run?")
    parser.add_argument("--rounds", type=int, help="rounds (default 41)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    settings = Settings.quick() if args.quick else Settings()
    if args.rounds:
        settings = Settings(args.rounds, settings.again_batch, settings.new_batch)
    result = run(settings)
    print(format_result(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
