"""The token fuzzer still runs: a few hundred inputs, every kind of outcome, no failure.

It asserts what the fuzzer found, never how fast it ran.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench import fuzz_tokens

ROOT = Path(__file__).resolve().parents[1]


def _check(output: str) -> None:
    assert "accepted forgeries (and wrong acceptances): 0" in output
    assert "untyped exceptions: 0" in output
    for outcome in (
        "verify: accepted",
        "verify: TryRefreshTokenError",
        "verify: UnauthorisedError",
        "refresh: UnauthorisedError",
    ):
        assert f"  {outcome}: " in output, outcome


def test_seeded_mutation_run(capsys: pytest.CaptureFixture[str]) -> None:
    status = fuzz_tokens.main(["--inputs", "600", "--engine", "mutate", "--seed", "5"])
    output = capsys.readouterr().out
    assert status == 0, output
    assert "inputs: 600 " in output
    _check(output)


def test_coverage_guided_run() -> None:
    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs the fuzz extra (atheris): scripts/test installs it")
        pytest.skip("the fuzz extra is not installed: pip install -e '.[fuzz]'")
    done = subprocess.run(
        [sys.executable, "-m", "bench.fuzz_tokens", "--inputs", "600", "--engine", "atheris"],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "inputs: 600 " in done.stdout
    _check(done.stdout)
