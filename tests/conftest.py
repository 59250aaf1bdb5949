"""Shared fixtures: the three real databases, a controllable clock, Tessera objects.

Database tests run against real servers. Without one, its tests are skipped with the
reason, except in CI (``CI=true``), where a missing server is a failure: CI must never
pass by running fewer tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

from tessera import StorageError, Tessera
from tessera.storage import SqlStore, open_store

from ._support.clock import FakeClock
from ._support.databases import BACKENDS, database_url, unavailable

# Property tests: "ci" (the default) keeps each one to a few seconds and writes nothing;
# HYPOTHESIS_PROFILE=thorough searches much longer, keeping failures in .hypothesis/.
settings.register_profile("ci", max_examples=200, deadline=None, database=None)
settings.register_profile("thorough", max_examples=20_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def table_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}_"


@pytest.fixture
def store_factory(
    backend: str, tmp_path: Any, table_prefix: str
) -> Iterator[Callable[..., SqlStore]]:
    """Opens stores on the test's backend, each under this test's own table prefix."""
    opened: list[SqlStore] = []

    def open_one(pool_size: int = 10) -> SqlStore:
        try:
            store = open_store(
                database_url(backend, tmp_path), table_name_prefix=table_prefix, pool_size=pool_size
            )
        except StorageError as exc:
            unavailable(backend, str(exc))
        opened.append(store)
        return store

    yield open_one
    if opened:
        opened[0].drop_tables()
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: Callable[..., SqlStore]) -> SqlStore:
    return store_factory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_tessera(
    store_factory: Callable[..., SqlStore], clock: FakeClock
) -> Iterator[Callable[..., Tessera]]:
    """Tessera objects over the test's backend, sharing its tables and its fake clock.
    Two objects made here behave like two processes of one app."""
    made: list[Tessera] = []

    def make(**settings: Any) -> Tessera:
        settings.setdefault("expired_session_purge_interval", 0)
        pool = settings.get("database_pool_size", 10)
        engine = Tessera(
            store=store_factory(pool_size=pool), clock=settings.pop("clock", clock), **settings
        )
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine._threads.close()
        engine._purger.stop()
        engine.revocations.close()
