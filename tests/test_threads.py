"""One pool of worker threads per process: the app objects and the core share it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tessera import Tessera
from tessera._threads import WorkerThreads
from tessera.core.asgi import CoreApp
from tessera.core.config import load_config


def _meet(barrier: threading.Barrier) -> str:
    """Wait until every party is on a thread at once; the name of this one's thread."""
    barrier.wait(timeout=10)
    return threading.current_thread().name


async def test_the_app_object_and_the_core_share_one_pool(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path}/core.db\ndatabase_pool_size: 1\n")
    core = CoreApp(load_config(config, environ={}))
    app = Tessera(f"sqlite:///{tmp_path}/app.db", database_pool_size=1)
    try:
        barrier = threading.Barrier(2)
        # Both at once: each share has one thread, and the pool has the two together.
        names = await asyncio.gather(
            app.in_thread(_meet, barrier), core._threads.run(_meet, barrier)
        )
    finally:
        app.close()
        core.close()
    # Threads are numbered per pool: two pools would both have named theirs ``_0``.
    assert len(set(names)) == 2
    assert all(name.startswith("tessera_") for name in names)


async def test_a_closed_share_refuses_work_and_the_others_go_on() -> None:
    first, second = WorkerThreads(1), WorkerThreads(1)
    try:
        assert await first.run(sum, [1, 2]) == 3
        first.close()
        first.close()  # a second close gives nothing back twice
        with pytest.raises(RuntimeError):
            await first.run(sum, [1, 2])
        assert await second.run(sum, [3, 4]) == 7
    finally:
        second.close()


async def test_close_waits_for_the_share_s_own_work() -> None:
    threads = WorkerThreads(1)
    started, release = threading.Event(), threading.Event()
    done: list[bool] = []

    def work() -> None:
        started.set()
        release.wait(timeout=10)
        done.append(True)

    running = asyncio.ensure_future(threads.run(work))
    assert await asyncio.to_thread(started.wait, 10)
    closer = threading.Thread(target=threads.close)
    closer.start()
    closer.join(timeout=0.2)
    assert closer.is_alive(), "close() returned while its work was still running"
    release.set()
    closer.join(timeout=10)
    assert not closer.is_alive()
    assert done == [True]
    await running
