"""The benchmark's results: measurements, the ratios between them, and the printed table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ALGORITHMS", "RATIOS", "Measurement", "Report", "format_report"]

ALGORITHMS = ("RS256", "ES256", "EdDSA")

#: (name, numerator operation, denominator operation, target, backend the target is for).
#: "bare ..." operations are looked up under the "bare" backend.
RATIOS: list[tuple[str, str, str, float | None, str | None]] = [
    ("verify local (new) / bare verify", "verify local (new)", "bare verify", 1.3, None),
    (
        "verify db (new) / verify local (new)",
        "verify db (new)",
        "verify local (new)",
        2.0,
        "sqlite",
    ),
    ("verify local (again) / bare verify", "verify local (again)", "bare verify", None, None),
    (
        "verify db (again) / verify local (new)",
        "verify db (again)",
        "verify local (new)",
        None,
        None,
    ),
    ("create / bare sign", "create", "bare sign", None, None),
    ("refresh / bare sign", "refresh", "bare sign", None, None),
]


@dataclass
class Measurement:
    backend: str  # "bare" for the cryptography primitives
    operation: str
    algorithm: str | None
    ops_per_repeat: int
    #: Microseconds per operation, one value per round: wall clock, and this thread's CPU.
    samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_samples)

    @property
    def label(self) -> str:
        return f"{self.operation} {self.algorithm}" if self.algorithm else self.operation

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "operation": self.operation,
            "algorithm": self.algorithm,
            "ops_per_repeat": self.ops_per_repeat,
            "per_op_us": _summary(self.samples),
            "cpu_per_op_us": _summary(self.cpu_samples),
        }


def _summary(samples: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(samples), 2),
        "min": round(min(samples), 2),
        "max": round(max(samples), 2),
        "samples": [round(s, 2) for s in samples],
    }


@dataclass
class Report:
    backends: tuple[str, ...]
    settings: dict[str, Any]
    machine: dict[str, Any]
    measurements: list[Measurement]
    skipped: dict[str, str]
    load: dict[str, Any]
    seconds: float

    def find(self, backend: str, operation: str, algorithm: str | None) -> Measurement | None:
        for m in self.measurements:
            if (m.backend, m.operation, m.algorithm) == (backend, operation, algorithm):
                return m
        return None

    def ratios(self) -> list[dict[str, Any]]:
        """Each ratio per round (both batches come from the same round): median and spread,
        on wall-clock time and on this thread's CPU time."""
        rows: list[dict[str, Any]] = []
        live = [b for b in self.backends if b not in self.skipped]
        for name, top_op, bottom_op, target, target_backend in RATIOS:
            for alg in ALGORITHMS:
                for backend in live:
                    top = self.find(backend, top_op, alg)
                    bottom_backend = "bare" if bottom_op.startswith("bare") else backend
                    bottom = self.find(bottom_backend, bottom_op, alg)
                    if top is None or bottom is None:
                        continue
                    wall = _per_round(top.samples, bottom.samples)
                    cpu = _per_round(top.cpu_samples, bottom.cpu_samples)
                    applies = target is not None and target_backend in (None, backend)
                    if applies and alg != "RS256" and bottom_op == "bare verify":
                        applies = False  # the verify target is set for RS256
                    rows.append(
                        {
                            "ratio": f"{name}, {alg}",
                            "backend": backend,
                            "median": round(statistics.median(wall), 3),
                            "min": round(min(wall), 3),
                            "max": round(max(wall), 3),
                            "cpu_median": round(statistics.median(cpu), 3),
                            "target": target if applies else None,
                        }
                    )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "load": self.load,
            "seconds": round(self.seconds, 1),
            "settings": self.settings,
            "skipped": self.skipped,
            "measurements": [m.as_json() for m in self.measurements],
            "ratios": self.ratios(),
        }


def _per_round(top: list[float], bottom: list[float]) -> list[float]:
    return [a / b for a, b in zip(top, bottom, strict=True)]


def _cell(m: Measurement | None) -> str:
    if m is None:
        return "-"
    return f"{m.median:,.1f} ({min(m.samples):,.1f}-{max(m.samples):,.1f}) cpu {m.cpu_median:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    for r in rows:
        cells = [
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append(" | ".join(cells).rstrip())
    return lines


def format_report(report: Report, row_labels: list[tuple[str, str | None]]) -> str:
    mach, load = report.machine, report.load
    backends = list(report.backends)
    lines = [
        "tessera engine benchmark: microseconds per operation, median over rounds "
        "(fastest-slowest round), then this thread's CPU time per operation (median)",
        f"machine: {mach['cpu']}, {mach['cores']} cores ({mach['cores_usable']} usable); "
        f"{mach['python']}; cryptography {mach['cryptography']} ({mach['openssl']})",
        f"tessera source: {mach['tessera_source']}",
    ]
    lines += [f"{b}: {mach[f'{b}_server']}" for b in backends if f"{b}_server" in mach]
    lines += [
        f"load average before {load['loadavg_before']}, after {load['loadavg_after']}; "
        f"CPU busy during the run: this process {load['this_process_cores']} cores, "
        f"others (database servers included) {load.get('other_processes_cores', '?')} cores",
        f"settings: {report.settings}; the run took {report.seconds:.0f} s",
        "",
    ]
    header = ["operation", *[f"{b} (skipped)" if b in report.skipped else b for b in backends]]
    rows = [
        [m.label, _cell(m)] + [""] * (len(backends) - 1)
        for m in report.measurements
        if m.backend == "bare"
    ]
    for op, alg in row_labels:
        label = f"{op} {alg}" if alg else op
        rows.append([label, *[_cell(report.find(b, op, alg)) for b in backends]])
    lines += _table(header, rows)
    lines += [f"skipped {backend}: {why}" for backend, why in report.skipped.items()]

    lines += ["", "ratios, per round: median (min-max) of wall time, then of CPU time"]
    by_name: dict[str, dict[str, dict[str, Any]]] = {}
    for r in report.ratios():
        by_name.setdefault(r["ratio"], {})[r["backend"]] = r
    ratio_rows = []
    for name, cells in by_name.items():
        row = [name]
        for b in backends:
            cell = cells.get(b)
            if cell is None:
                row.append("-")
                continue
            text = f"{cell['median']:.2f} ({cell['min']:.2f}-{cell['max']:.2f})"
            text += f" cpu {cell['cpu_median']:.2f}"
            if cell["target"] is not None:
                verdict = "ok" if cell["median"] <= cell["target"] else "MISSED"
                text += f" [<={cell['target']} {verdict}]"
            row.append(text)
        ratio_rows.append(row)
    lines += _table(["ratio", *backends], ratio_rows)
    return "\n".join(lines)
