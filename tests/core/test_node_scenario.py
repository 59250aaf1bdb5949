"""supertokens-node (from the npm registry) against a tessera core: create, verify,
refresh, theft and the four revocations (``node/scenario.js``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import new_app

NODE_DIR = Path(__file__).parent / "node"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {tool} for the supertokens-node scenario")
        pytest.skip(f"{tool} is not installed")
    return path


def test_supertokens_node_scenario(core: str) -> None:
    node, npm = _need("node"), _need("npm")
    if not (NODE_DIR / "node_modules" / "supertokens-node").is_dir():
        subprocess.run(  # noqa: S603 - npm from PATH, fixed arguments
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--silent"],
            cwd=NODE_DIR,
            check=True,
            timeout=180,
        )
    result = subprocess.run(  # noqa: S603 - node from PATH, our own script
        [node, "scenario.js"],
        cwd=NODE_DIR,
        env={**os.environ, "CORE_URL": new_app(core)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "scenario passed" in result.stdout
