"""What the benchmark ran on, and how busy the machine was meanwhile."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import cryptography

__all__ = ["LoadMeter", "machine_info"]


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from cryptography.hazmat.backends.openssl.backend import backend as openssl

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cryptography": cryptography.__version__,
        "openssl": openssl.openssl_version_text(),
        "platform": platform.platform(),
        "tessera_source": _source_state(),
    }


def _source_state() -> str:
    """The commit measured, and whether the work tree differed from it (and where)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    dirty = sorted(line[3:] for line in changed if line.strip())
    return f"{commit} + uncommitted changes in {', '.join(dirty)}" if dirty else commit


def _busy_jiffies() -> int | None:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return user + nice + system + irq + softirq + steal


class LoadMeter:
    """Load average, and CPU used by the whole machine against this process alone.

    "Others" includes the database servers answering this benchmark's queries."""

    def __init__(self) -> None:
        self.load_before = os.getloadavg()
        self.busy_before = _busy_jiffies()
        self.own_before = sum(os.times()[:2])
        self.wall_before = time.monotonic()

    def result(self) -> dict[str, Any]:
        wall = max(time.monotonic() - self.wall_before, 1e-9)
        own = (sum(os.times()[:2]) - self.own_before) / wall
        busy_after = _busy_jiffies()
        result: dict[str, Any] = {
            "loadavg_before": [round(v, 2) for v in self.load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
            "this_process_cores": round(own, 2),
        }
        if self.busy_before is not None and busy_after is not None:
            total = (busy_after - self.busy_before) / os.sysconf("SC_CLK_TCK") / wall
            result["all_processes_cores"] = round(total, 2)
            result["other_processes_cores"] = round(max(0.0, total - own), 2)
        return result
