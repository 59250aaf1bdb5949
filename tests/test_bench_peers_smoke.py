"""The peer benchmark still runs: ``python -m bench.peers --quick`` against tessera in
FastAPI on SQLite (and the unprotected ceiling), with tiny durations. No speed is asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_run_writes_every_row(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is missing: scripts/test runs scripts/ensure-bench-tools")
        pytest.skip("wrk is not installed (scripts/ensure-bench-tools installs it)")
    if importlib.util.find_spec("uvicorn") is None:
        pytest.skip("uvicorn is not installed (pip install -e '.[test]')")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.peers", "--quick", "--in-place", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads((tmp_path / "peers-quick.json").read_text())
    cells = {c["work"]: c for c in document["cells"] if c["target"] == "tessera-fastapi-sqlite"}
    assert set(cells) == {
        "open",
        "bare",
        "protected",
        "protected-repeat",
        "protected-db",
        "protected-db-repeat",
        "login",
        "refresh",
        "list",
        "revoke-all",
    }
    for work, cell in cells.items():
        assert "unavailable" not in cell, (work, cell, done.stderr[-2000:])
        figure = cell["ms"] if work == "revoke-all" else cell["rps"]
        assert figure["median"] > 0, (work, cell)
    assert document["peak_rss_kib"]["tessera-fastapi-sqlite"]["app"] > 0
    table = (tmp_path / "peers-quick.txt").read_text()
    assert "ceiling: unprotected endpoint" in table
    assert "tessera-fastapi-sqlite" in table
    assert "load before" in table
