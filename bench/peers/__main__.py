"""``python -m bench.peers``: tessera against its peers over real HTTP, in one run.

By default it makes (once) its own environment ``bench/.venv-peers`` with the peers from
PyPI, installs wrk if needed (``scripts/ensure-bench-tools``), and re-runs itself there.
``--in-place`` runs with this interpreter instead (targets whose packages are missing are
reported as unavailable); the smoke test uses ``--quick --in-place``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._targets import Settings, Target

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-peers"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
RESULTS = ROOT / "bench" / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny runs, to check it works")
    parser.add_argument(
        "--targets",
        help="comma-separated target names, or 'all' (default: all; with --quick, "
        "tessera-fastapi-sqlite)",
    )
    parser.add_argument("--in-place", action="store_true", help="use this interpreter")
    parser.add_argument("--seconds", type=int, help="seconds per measured wrk run")
    parser.add_argument("--runs", type=int, help="measured runs per cell")
    parser.add_argument("--no-growth", action="store_true", help="skip the 10^4-10^6 rows")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    return parser


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _ensure_venv() -> None:
    stamp = VENV / ".requirements-sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == wanted and _venv_python().exists():
        return
    print(f"bench.peers: preparing {VENV.relative_to(ROOT)} (once)", file=sys.stderr)
    if not _venv_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(_venv_python()), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run(
        [*pip, "-e", f"{ROOT}[postgres,fastapi,flask,django,core]", "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(wanted + "\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ._targets import QUICK, TARGETS, Settings

    if args.list:
        for target in TARGETS:
            print(f"{target.name:24} {target.label}")
        return 0
    subprocess.run([str(ROOT / "scripts" / "ensure-bench-tools")], check=False)
    if shutil.which("wrk") is None:
        print("bench.peers: wrk is not installed (scripts/ensure-bench-tools)", file=sys.stderr)
        return 2
    if not args.in_place and Path(sys.prefix).resolve() != VENV.resolve():
        _ensure_venv()
        command = [str(_venv_python()), "-m", "bench.peers", *(argv or sys.argv[1:])]
        os.chdir(ROOT)
        return subprocess.run([*command, "--in-place"], check=False).returncode

    settings = QUICK if args.quick else Settings()
    if args.seconds:
        settings = replace(settings, seconds=args.seconds)
    if args.runs:
        settings = replace(settings, runs=args.runs)
    if args.no_growth:
        settings = replace(settings, growth=())
    default = "tessera-fastapi-sqlite" if args.quick else "all"
    chosen = (args.targets or default).split(",")
    targets = [t for t in TARGETS if "all" in chosen or t.name in chosen]
    unknown = set(chosen) - {t.name for t in TARGETS} - {"all"}
    if unknown:
        print(f"bench.peers: unknown targets {sorted(unknown)} (see --list)", file=sys.stderr)
        return 2
    return _run(args, settings, targets)


def _run(args: argparse.Namespace, settings: Settings, chosen: list[Target]) -> int:
    from bench._machine import LoadMeter, machine_info

    from ._report import format_table, plot, write_json
    from ._runner import Run, run_targets

    uptime_before = _uptime()
    meter = LoadMeter()
    started = time.time()
    run = Run(
        settings=settings,
        postgres_url=os.environ.get(
            "TESSERA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        redis_url=os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    print(f"bench.peers: {len(chosen)} targets; load: {uptime_before}", file=sys.stderr)
    try:
        run_targets(run, chosen)
    finally:
        shutil.rmtree(run.workdir, ignore_errors=True)
    elapsed = time.time() - started
    load = meter.result()
    uptime_after = _uptime()
    table = format_table(run.cells, run.rss_kib, settings.sessions_per_user)
    head = (
        f"tessera vs peers over HTTP: wrk -t{settings.threads} -c{settings.connections}, "
        f"{settings.runs} x {settings.seconds} s per cell after {settings.warmup} s warm-up; "
        "ASGI apps: uvicorn, 1 process (uvloop/httptools when installed); WSGI apps: gunicorn, "
        "1 gthread worker x 4 threads. Ratio columns: tessera / peer on speed (>1 = tessera "
        "faster), against tessera in the peer's framework.\n"
        f"load before: {uptime_before}\nload after:  {uptime_after}\n"
        f"other processes used {load.get('other_processes_cores', '?')} cores on average; "
        f"took {elapsed:.0f} s"
    )
    print(head + "\n" + table)
    suffix = "-quick" if args.quick else ""
    document = {
        "command": " ".join(["python -m bench.peers", *sys.argv[1:]]),
        "machine": machine_info(),
        "load": {**load, "uptime_before": uptime_before, "uptime_after": uptime_after},
        "settings": asdict(settings),
        "seconds": round(elapsed, 1),
        "cells": [c.as_json() for c in run.cells],
        "peak_rss_kib": run.rss_kib,
        "table": table,
    }
    write_json(args.results / f"peers{suffix}.json", document)
    (args.results / f"peers{suffix}.txt").write_text(head + "\n" + table + "\n")
    why_not = plot(args.results / f"peers{suffix}.png", run.cells)
    print(
        f"\nresults: {args.results}/peers{suffix}.{{txt,json,png}}"
        + (f" ({why_not})" if why_not else "")
    )
    return 0


def _uptime() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
