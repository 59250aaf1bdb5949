"""The metrics-overhead benchmark still runs: every ratio is there and finite. It asserts
nothing about speed."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bench import metrics_overhead


def test_quick_run_reports_a_ratio_per_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    assert metrics_overhead.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["kinds"]) == {"again", "new"}
    for row in result["kinds"].values():
        assert len(row["ratios"]) == metrics_overhead.Settings.quick().rounds
        assert all(math.isfinite(r) and r > 0 for r in row["ratios"])
        assert row["ratio_min"] <= row["ratio_median"] <= row["ratio_max"]
    assert len(result["load_average"]["before"]) == 3
    assert "ratio median" in capsys.readouterr().out
