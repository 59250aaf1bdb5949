"""The engine benchmark still runs: a few operations on SQLite, every row filled.

It asserts that the numbers are there and sane, never how fast anything is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bench import engine


def test_quick_run_fills_every_row_with_positive_costs() -> None:
    settings = engine.Settings.quick()
    report = engine.run(settings, ("sqlite",))

    assert report.skipped == {}
    expected = [("bare", op, alg) for op, alg in engine.BARE_ROWS] + [
        ("sqlite", op, alg) for op, alg in engine.row_labels(settings)
    ]
    found = [(m.backend, m.operation, m.algorithm) for m in report.measurements]
    assert sorted(found, key=str) == sorted(expected, key=str)
    for m in report.measurements:
        assert len(m.samples) == len(m.cpu_samples) == settings.repeats, m.label
        for sample in m.samples + m.cpu_samples:
            assert math.isfinite(sample), m.label
            assert sample > 0, m.label
        assert min(m.samples) <= m.median <= max(m.samples)

    ratios = report.ratios()
    names = {r["ratio"] for r in ratios}
    for alg in engine.ALGORITHMS:
        assert f"verify local (new) / bare verify, {alg}" in names
        assert f"verify db (new) / verify local (new), {alg}" in names
    assert all(r["median"] > 0 and r["cpu_median"] > 0 for r in ratios)

    text = engine.format_report(report, engine.row_labels(settings))
    for m in report.measurements:
        assert m.label in text
    assert "verify local (new) / bare verify, RS256" in text


def test_main_writes_json_and_reports_an_unreachable_backend_as_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on loopback: nothing listens there, so the backend must be skipped, not crash.
    monkeypatch.setitem(engine.SERVER_URLS, "postgresql", "postgresql://postgres@127.0.0.1:1/none")
    out = tmp_path / "engine.json"

    args = ["--quick", "--repeats", "1", "--backends", "sqlite,postgresql", "--json", str(out)]
    assert engine.main(args) == 0

    printed = capsys.readouterr().out
    assert "postgresql (skipped)" in printed
    data = json.loads(out.read_text())
    assert set(data["skipped"]) == {"postgresql"}
    assert {m["backend"] for m in data["measurements"]} == {"bare", "sqlite"}
    assert data["machine"]["cores"] >= 1
    assert all(m["per_op_us"]["median"] > 0 for m in data["measurements"])
