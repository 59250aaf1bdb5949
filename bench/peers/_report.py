"""The results: a printed table of ratios, the JSON file, and the PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._runner import Cell
from ._targets import TARGETS, WORKS, Target

__all__ = ["format_table", "plot", "write_json"]

_BY_NAME = {t.name: t for t in TARGETS}


def _target(name: str) -> Target:
    return _BY_NAME[name]


def _find(cells: list[Cell], target: str, work: str, stored: int | None = None) -> Cell | None:
    for cell in cells:
        if cell.target == target and cell.work == work and cell.stored == stored:
            return cell
    return None


def _speed(cell: Cell | None) -> float | None:
    """Higher is better: req/s, or calls per second for timed work."""
    if cell is None or cell.unavailable:
        return None
    rps = cell.median("rps")
    if rps:
        return rps
    ms = cell.median("ms")
    return 1000 / ms if ms else None


def _ratio(tessera: Cell | None, peer: Cell | None) -> str:
    a, b = _speed(tessera), _speed(peer)
    return f"{a / b:.2f}" if a and b else "-"


def _figure(cell: Cell) -> tuple[str, str, str]:
    if cell.unavailable:
        return cell.unavailable, "", ""
    if cell.values("ms"):
        ms = cell.values("ms")
        return f"{cell.median('ms'):.1f} ms [{min(ms):.1f}-{max(ms):.1f}]", "", ""
    rps = cell.values("rps")
    return (
        f"{cell.median('rps'):,.0f} [{min(rps):,.0f}-{max(rps):,.0f}]",
        f"{cell.median('p50_ms'):.2f}",
        f"{cell.median('p99_ms'):.2f}",
    )


def format_table(cells: list[Cell], rss: dict[str, dict[str, int | None]], n: int) -> str:
    """One block per work item. The ratio columns are tessera / peer on speed (req/s, or
    calls/s for revoke-all), against tessera in the peer's framework on SQLite and on
    PostgreSQL: above 1 means tessera is faster."""
    lines: list[str] = []
    header = (
        f"{'':46} {'req/s median [min-max]':>26} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'t/peer SQLite':>13} {'t/peer PG':>10}"
    )
    for work in WORKS:
        rows = [c for c in cells if c.work == work.key and c.stored is None]
        if not rows:
            continue
        title = (
            work.title.replace("N", f"{n:,}") if work.key in ("list", "revoke-all") else work.title
        )
        lines += ["", title, header]
        for cell in rows:
            target = _target(cell.target)
            figure, p50, p99 = _figure(cell)
            sqlite = pg = ""
            if not target.is_tessera and not cell.unavailable:
                sqlite = _ratio(_find(cells, f"tessera-{target.framework}-sqlite", work.key), cell)
                pg = _ratio(_find(cells, f"tessera-{target.framework}-pg", work.key), cell)
            elif work.key.startswith("protected") and target.ceilings and not cell.unavailable:
                bare = _find(cells, target.name, "bare")
                sqlite = f"{_ratio(cell, bare)} of bare" if bare else ""
            if len(figure) > 26 and cell.unavailable:
                lines.append(f"  {cell.target:44} {figure}")
            else:
                lines.append(
                    f"  {cell.target:44} {figure:>26} {p50:>8} {p99:>8} {sqlite:>13} {pg:>10}"
                )
    growth = sorted({c.stored for c in cells if c.stored is not None})
    if growth:
        lines += ["", "5. growth: tessera embedded, FastAPI, PostgreSQL, by stored sessions"]
        lines.append(
            f"{'':46} {'median [min-max]':>26} {'p50 ms':>8} {'p99 ms':>8} {'vs base':>13}"
        )
        for cell in sorted(
            (c for c in cells if c.stored is not None), key=lambda c: (c.work, c.stored or 0)
        ):
            figure, p50, p99 = _figure(cell)
            base = _find(cells, cell.target, cell.work)
            label = f"{cell.work} @ {cell.stored:,} stored"
            lines.append(f"  {label:44} {figure:>26} {p50:>8} {p99:>8} {_ratio(cell, base):>13}")
    lines += ["", "6. peak RSS of the server process under load (MiB)"]
    for name, roles in rss.items():
        parts = [f"{role} {kib / 1024:.0f}" for role, kib in roles.items() if kib]
        lines.append(f"  {name:44} {', '.join(parts) or '-'}")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def plot(path: Path, cells: list[Cell]) -> str | None:
    """The headline figures as a PNG; returns why not when matplotlib is missing."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "matplotlib is not installed here (it is in the benchmark's own venv)"
    works = ["protected", "protected-db", "login", "refresh"]
    growth = sorted({c.stored for c in cells if c.stored is not None})
    panels = len(works) + (1 if growth else 0)
    figure, axes = plt.subplots(panels, 1, figsize=(10, 3.2 * panels))
    for axis, work in zip(axes, works, strict=False):
        rows = [c for c in cells if c.work == work and c.stored is None and not c.unavailable]
        names = [c.target for c in rows]
        medians = [c.median("rps") or 0 for c in rows]
        low = [m - min(c.values("rps")) for m, c in zip(medians, rows, strict=True)]
        high = [max(c.values("rps")) - m for m, c in zip(medians, rows, strict=True)]
        colours = ["tab:blue" if n.startswith("tessera") else "tab:orange" for n in names]
        axis.barh(names, medians, xerr=[low, high], color=colours)
        axis.set_title(next(w.title for w in WORKS if w.key == work))
        axis.set_xlabel("requests/s (median, bars: min-max)")
        axis.invert_yaxis()
    if growth:
        axis = axes[-1]
        for work in ("protected-db", "login", "refresh", "list"):
            points = [(0, _speed(_find(cells, "tessera-fastapi-pg", work)))]
            points += [(s, _speed(_find(cells, "tessera-fastapi-pg", work, s))) for s in growth]
            shown = [(max(x, 1), y) for x, y in points if y]
            if shown:
                axis.plot(*zip(*shown, strict=True), marker="o", label=work)
        axis.set_xscale("log")
        axis.set_title("5. growth: tessera, FastAPI, PostgreSQL")
        axis.set_xlabel("stored sessions")
        axis.set_ylabel("requests/s")
        axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None
