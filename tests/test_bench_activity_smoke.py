"""The activity benchmarks still run: every figure is there. They assert nothing about
speed; the write counts they report follow from the interval, so those are checked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bench import activity_overhead, activity_writes


def test_overhead_quick_run_reports_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    assert activity_overhead.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["kinds"]) == {"again", "new"}
    for row in result["kinds"].values():
        for clock in ("wall", "cpu"):
            ratios = row[clock]["ratios"]
            assert len(ratios) <= activity_overhead.Settings.quick().rounds
            assert all(math.isfinite(r) and r > 0 for r in ratios)
    # Every session was recorded just before: nothing is due while timing.
    assert result["writes_during_run"] == 0
    assert "ratio median" in capsys.readouterr().out


def test_writes_quick_run_stays_within_one_write_per_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    args = ["--quick", "--minutes", "0.5", "--interval", "5", "--json", str(out)]
    assert activity_writes.main(args) == 0
    result = json.loads(out.read_text())
    # 30 s with a 5 s interval: at most 6 writes per session, 12 per session-minute.
    assert 0 < result["writes_per_session_minute"] <= 12
    assert result["rows_written"] <= result["update_statements"] <= result["verifications"]
    assert result["dropped"] == 0
    assert "rows written" in capsys.readouterr().out
