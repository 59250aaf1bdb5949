"""What metrics cost on the hot path: verifying an access token, with metrics off and on.

    .venv/bin/python -m bench.metrics_overhead            # about half a minute
    .venv/bin/python -m bench.metrics_overhead --quick    # does it run?

One ``Tessera`` object over a SQLite database verifies with metrics off and on
(prometheus_client must be installed): ``use_metrics`` switches it between ``None``,
what ``metrics=False`` gives, and the process's recorder. One object for both
keeps everything else equal; two objects, however alike, differ by about 1% in such a
loop (memory placement), which would drown what is measured. Each round times one
batch of verifications off and on, in alternating order, of two kinds: a token the
object has verified before ("again": the cached path, about 3 µs, where any cost shows
most) and a token it has not ("new": the whole signature check). The per-round ratio is
``time off / time on`` (1.0: no cost; 0.97: metrics make verification 3% slower); the
report gives the median over the rounds, the spread, and the load average, since other
processes on the machine disturb single rounds. The garbage collector is paused inside
each batch, as ``timeit`` does.
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


@dataclass(frozen=True)
class Settings:
    rounds: int = 21
    again_batch: int = 20_000
    new_batch: int = 150

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, again_batch=200, new_batch=5)


def _timed(work: Callable[[], None]) -> float:
    gc.disable()
    try:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started
    finally:
        gc.enable()


def run(settings: Settings) -> dict[str, Any]:
    """Measure; the result holds per-round ratios, their medians and the load."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as home:
        database = f"sqlite:///{home}/bench.db"
        maker = Tessera(database, metrics=False)
        app = Tessera(database, metrics=True)
        if app.metrics is None:
            raise SystemExit("prometheus_client is not installed: pip install tessera[metrics]")
        try:
            return _measure(settings, maker, app, load_before)
        finally:
            app.use_metrics(app.observer.metrics)
            for one in (maker, app):
                one.close()


def _measure(
    settings: Settings, maker: Tessera, app: Tessera, load_before: tuple[float, ...]
) -> dict[str, Any]:
    modes = {"off": None, "on": app.metrics}  # what metrics=False and True give
    # Fresh tokens for every "new" batch, minted by another object.
    needed = settings.rounds * settings.new_batch
    fresh = {
        name: [maker.syncio.create_new_session(f"u{i}").get_access_token() for i in range(needed)]
        for name in modes
    }
    again = maker.syncio.create_new_session("again").get_access_token()
    verify = app.syncio.get_session_without_request_response
    for _ in range(100):  # warm: keys loaded, the repeated token cached
        verify(again)
    seconds: dict[str, dict[str, list[float]]] = {
        kind: {name: [] for name in modes} for kind in ("again", "new")
    }
    for round_number in range(settings.rounds):
        order = list(modes) if round_number % 2 == 0 else list(reversed(modes))
        for name in order:
            app.use_metrics(modes[name])

            def repeated(verify: Any = verify) -> None:
                for _ in range(settings.again_batch):
                    verify(again)

            start = round_number * settings.new_batch
            batch = fresh[name][start : start + settings.new_batch]

            def new(verify: Any = verify, batch: list[str] = batch) -> None:
                for token in batch:
                    verify(token)

            seconds["again"][name].append(_timed(repeated) / settings.again_batch)
            seconds["new"][name].append(_timed(new) / settings.new_batch)
    result: dict[str, Any] = {"settings": settings.__dict__, "kinds": {}}
    for kind, by_name in seconds.items():
        ratios = [o / n for o, n in zip(by_name["off"], by_name["on"], strict=True)]
        result["kinds"][kind] = {
            "off_median_us": statistics.median(by_name["off"]) * 1e6,
            "on_median_us": statistics.median(by_name["on"]) * 1e6,
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "ratios": ratios,
        }
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    result["cpus"] = os.cpu_count()
    return result


def format_result(result: dict[str, Any]) -> str:
    lines = ["verify with metrics off and on (ratio = time off / time on; 1.0 = no cost)"]
    for kind, row in result["kinds"].items():
        lines.append(
            f"  {kind:6} off {row['off_median_us']:8.2f} µs  on {row['on_median_us']:8.2f} µs  "
            f"ratio median {row['ratio_median']:.3f} "
            f"(rounds {row['ratio_min']:.3f} .. {row['ratio_max']:.3f})"
        )
    load = result["load_average"]
    lines.append(
        f"  load average {load['before'][0]:.2f} before, {load['after'][0]:.2f} after, "
        f"{result['cpus']} CPUs; {result['settings']['rounds']} rounds"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few operations: does it run?")
    parser.add_argument("--rounds", type=int, help="rounds (default 21)")
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
