"""A core service started for a benchmark: its own port, its own tables, cleaned up after.

Shared by the load benchmarks, so each measures the same thing the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_POSTGRES_URL", "RunningCore", "call", "free_port", "running_core"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_TABLES = ("sessions", "signing_keys", "secrets", "schema", "tenants")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(url: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback URL we built
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        result: dict[str, Any] = json.loads(answer.read())
        return result


@dataclass(frozen=True)
class RunningCore:
    base: str  # http://127.0.0.1:PORT
    port: int
    app: str  # base URL of the benchmark's own app
    work: Path  # a temporary directory that is removed afterwards


@contextmanager
def running_core(
    backend: str, postgres_url: str = DEFAULT_POSTGRES_URL, **environment: str
) -> Iterator[RunningCore]:
    """Start ``tessera start --foreground`` on a free port over a fresh database (SQLite in
    a temporary directory, or new tables on PostgreSQL), with an app named ``bench``."""
    work = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    prefix = f"b{uuid.uuid4().hex[:8]}_"
    env.update(
        TESSERA_HOME=str(work),
        SUPERTOKENS_PORT=str(port),
        LOG_LEVEL="WARN",
        TABLE_NAME_PREFIX=prefix,
        **environment,
    )
    if backend == "postgresql":
        env["DATABASE_URL"] = postgres_url
    core = subprocess.Popen(
        [sys.executable, "-m", "tessera", "start", "--foreground"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/hello", timeout=1).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        call(f"{base}/recipe/multitenancy/app/v2", {"appId": "bench", "coreConfig": {}}, "PUT")
        yield RunningCore(base=base, port=port, app=f"{base}/appid-bench", work=work)
    finally:
        core.terminate()
        core.wait(timeout=30)
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(postgres_url, autocommit=True) as connection:
                for table in _TABLES:
                    connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
        shutil.rmtree(work, ignore_errors=True)
