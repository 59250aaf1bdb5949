"""The official supertokens-node SDK (pinned in ``node/package-lock.json``, installed by
``scripts/ensure-node-sdk``) against tessera cores on SQLite and on PostgreSQL:

- ``scenario.js``: the short tour (create, verify, refresh, theft, the revocations);
- ``sdk_functions.js``: every session function the SDK exposes, with theft, expired,
  forged and foreign tokens, tenants and claims (modes ``main``, ``static``, ``short``);
- ``theft_app.js``: an express app on the SDK's middleware whose ``onTokenTheftDetected``
  keeps the session (``keep``), or the SDK's default handler (``default``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .._support.cores import StartCore, new_app

NODE_DIR = Path(__file__).parent / "node"
ENSURE = Path(__file__).parents[2] / "scripts" / "ensure-node-sdk"
RUNS = [
    ("sdk_functions.js", "main"),
    ("sdk_functions.js", "static"),
    ("sdk_functions.js", "short"),
    ("theft_app.js", "keep"),
    ("theft_app.js", "default"),
]


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {tool} for the supertokens-node scenarios")
        pytest.skip(f"{tool} is not installed")
    return path


@pytest.fixture(scope="module")
def node() -> str:
    path = _need("node")
    _need("npm")
    subprocess.run([str(ENSURE)], check=True, timeout=300)  # noqa: S603 - our own script
    if not (NODE_DIR / "node_modules" / "supertokens-node").is_dir():
        pytest.fail("scripts/ensure-node-sdk did not install supertokens-node")
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def node_core(request: pytest.FixtureRequest, start_core: StartCore) -> Iterator[str]:
    if request.param == "sqlite":
        yield start_core()
        return
    postgres_url = request.getfixturevalue("postgres_url")
    prefix = f"n{uuid.uuid4().hex[:8]}_"
    yield start_core(database_url=postgres_url, table_name_prefix=prefix)
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for table in ("sessions", "signing_keys", "secrets", "schema", "tenants"):
            connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")


def _run(node: str, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - node from PATH, our own scripts
        [node, script, *args],
        cwd=NODE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_supertokens_node_scenario(node: str, node_core: str) -> None:
    result = _run(node, "scenario.js", CORE_URL=new_app(node_core))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "scenario passed" in result.stdout


@pytest.mark.parametrize(("script", "mode"), RUNS)
def test_supertokens_node_functions(node: str, node_core: str, script: str, mode: str) -> None:
    config = {"access_token_validity": "2"} if mode == "short" else {}
    result = _run(
        node,
        script,
        mode,
        APP_URL=new_app(node_core, **config),
        OTHER_APP_URL=new_app(node_core),
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    outcome = json.loads(lines[-1])
    print(f"{script} {mode}: {outcome['passed']} passed, {len(outcome['failed'])} failed")
    assert outcome["failed"] == [], result.stderr[-3000:]
    assert outcome["passed"] > 0
    assert result.returncode == 0
