"""Running ``wrk`` and reading its report."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkResult", "run_wrk"]

SCRIPTS = Path(__file__).resolve().parent / "lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    #: Responses that were not 2xx/3xx, plus socket errors: a run with any is not trusted.
    failures: int


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    script_env: dict[str, str] | None = None,
) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(SCRIPTS / script)]
    command.append(url)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        env={**os.environ, **(script_env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return parse(done.stdout)


def parse(report: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    total = re.search(r"(\d+) requests in", report)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", report, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", report, re.MULTILINE)
    if not (rps and total):
        raise RuntimeError(f"unexpected wrk output: {report[:300]}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", report)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    failures = int(bad.group(1)) if bad else 0
    if errors:
        # Read errors alone are connections the server closed (normal at the end of a run).
        failures += int(errors.group(1)) + int(errors.group(3)) + int(errors.group(4))
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=_ms(p50),
        p99_ms=_ms(p99),
        requests=int(total.group(1)),
        failures=failures,
    )


def _ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]
