"""Where the tests find the real database servers, and what a test does without one."""

from __future__ import annotations

import os
from typing import Any

import pytest

#: Every database backend, in the order tests run them.
BACKENDS = ["sqlite", "postgresql", "mysql"]

SERVER_URLS = {
    "postgresql": os.environ.get(
        "TESSERA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TESSERA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
#: The Redis server of the revocation feed's pub/sub tests.
REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(backend: str, why: str) -> None:
    """Skip the test whose database server is missing; fail it under CI, which must
    never pass by running fewer tests."""
    message = f"{backend} server not reachable ({why}); set TESSERA_TEST_*_URL or start it"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs every backend: {message}")
    pytest.skip(message)


def database_url(backend: str, tmp_path: Any) -> str:
    """The URL of ``backend``: a new SQLite file in ``tmp_path``, or the shared server."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/sessions.db"
    return SERVER_URLS[backend]


def redis_or_skip() -> None:
    """Skip the test when Redis (or its client) is missing; fail it under CI."""
    redis = pytest.importorskip("redis")
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
