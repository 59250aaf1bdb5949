"""The revocation benchmarks still run, each at a tiny size. They assert that the numbers
are there and sane, never how fast anything is."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from bench import revocation_http, revocation_lag, revocation_memory


def test_memory_benchmark_reports_bytes_per_revocation(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    assert revocation_memory.main(["--revocations", "500", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["revocations"] == 500
    assert 40 < result["bytes_per_revocation"] < 5000


def test_lag_benchmark_reports_percentiles_and_misses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "lag.json"
    args = ["--setups", "sqlite", "--revocations", "10", "--processes", "2", "--rate", "100"]
    assert revocation_lag.main([*args, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["skipped"] == {}
    (result,) = data["results"]
    assert result["missing"] == 0
    assert result["applied"] == 20
    for key in ("p50_ms", "p99_ms", "max_ms"):
        assert math.isfinite(result[key])
    assert 0 <= result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


def test_lag_benchmark_reports_an_unreachable_server_as_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(revocation_lag.URLS, "postgresql", "postgresql://postgres@127.0.0.1:1/x")
    out = tmp_path / "lag.json"
    args = ["--setups", "postgresql", "--revocations", "2", "--processes", "1"]
    assert revocation_lag.main([*args, "--json", str(out)]) == 0
    assert set(json.loads(out.read_text())["skipped"]) == {"postgresql"}


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_http_benchmark_fills_every_row(tmp_path: Path) -> None:
    out = tmp_path / "http.json"
    args = ["--duration", "1", "--rounds", "1", "--tokens", "20", "--connections", "2"]
    assert revocation_http.main([*args, "--json", str(out)]) == 0
    medians = json.loads(out.read_text())["medians"]
    assert set(medians) == {label for label, _ in revocation_http.ROWS}
    assert all(value > 0 for value in medians.values())
