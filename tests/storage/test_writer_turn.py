"""SQLite writers queue in a turn of their own: one at a time across threads and
processes, a forked child with a lock file of its own, and a bounded wait."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tessera import StorageError
from tessera.storage import open_store
from tessera.storage._writer_turn import WriterTurn


def _hold(path: str, log: str, rounds: int) -> None:
    turn = WriterTurn(path, timeout=5)
    for _ in range(rounds):
        with turn():
            with open(log, "a") as out:
                out.write(f"in {time.monotonic_ns()}\n")
            time.sleep(0.002)
            with open(log, "a") as out:
                out.write(f"out {time.monotonic_ns()}\n")


def test_writers_in_several_processes_and_threads_never_overlap(tmp_path: Path) -> None:
    database, log = str(tmp_path / "s.db"), str(tmp_path / "log")
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_hold, args=(database, log, 15)) for _ in range(3)]
    threads = [threading.Thread(target=_hold, args=(database, log, 15)) for _ in range(2)]
    for process in processes:
        process.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    lines = Path(log).read_text().split()
    events = list(zip(lines[::2], lines[1::2], strict=True))
    assert len(events) == 5 * 15 * 2
    # Written in order by whoever held the turn: strictly alternating in and out.
    assert [kind for kind, _ in events] == ["in", "out"] * (5 * 15)


def test_a_forked_child_takes_the_turn_with_a_file_of_its_own(tmp_path: Path) -> None:
    database = str(tmp_path / "s.db")
    turn = WriterTurn(database, timeout=0.3)
    with turn():
        pass  # the parent opened its lock file
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()

    def child() -> None:
        with turn():  # inherited object: must open its own file, or it would share ours
            holding.set()
            release.wait(10)

    process = context.Process(target=child)
    process.start()
    assert holding.wait(10)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"), turn():
            pass
    finally:
        release.set()
        process.join(10)
    with turn():
        pass  # free again once the child let go


def test_a_held_turn_is_a_storage_error_in_bounded_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    store = open_store(url, table_name_prefix="t_", pool_size=2)
    other = WriterTurn(str(tmp_path / "s.db"), timeout=5)
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()

    def holder() -> None:
        with other():
            holding.set()
            release.wait(20)

    process = context.Process(target=holder)
    process.start()
    assert holding.wait(10)
    started = time.monotonic()
    try:
        with pytest.raises(StorageError):
            store.delete_sessions(["nobody"])
    finally:
        release.set()
        process.join(10)
    limit = store.dialect.timeouts.statement
    assert time.monotonic() - started < limit + 2
    assert store.delete_sessions(["nobody"]) == []
    store.close()
