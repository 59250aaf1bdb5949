"""A store keeps working in a process forked while its connections were in use."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

from tessera.storage import SqlStore, open_store

_store: SqlStore | None = None


def _read_in_child(results: Any) -> None:
    assert _store is not None
    results.put(_store.list_signing_keys() == [])


def test_fork_while_every_connection_is_checked_out(tmp_path: Path) -> None:
    global _store
    _store = open_store(f"sqlite:///{tmp_path}/fork.db", pool_size=1)
    inside, release = threading.Event(), threading.Event()

    def hold(_connection: object) -> None:
        inside.set()
        release.wait(10)

    holder = threading.Thread(target=_store._pool.run, args=(hold,))
    holder.start()
    inside.wait(10)
    try:
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_read_in_child, args=(results,))
        child.start()
        child.join(20)
        if child.is_alive():
            child.kill()
        # Without starting over after fork, the child waits for a slot the parent's
        # thread holds, a thread that does not exist in the child.
        assert child.exitcode == 0, "the child could not use the store"
        assert results.get(timeout=5) is True
    finally:
        release.set()
        holder.join()
        _store.close()
        _store = None
