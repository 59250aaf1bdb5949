"""Several OS processes of one app over one database behave as one."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from tessera import Tessera
from tessera.storage import SqlStore

from ._support.databases import database_url


def _refresh_in_child(args: tuple[str, str, str, int]) -> list[str]:
    url, prefix, refresh_token, times = args
    t = Tessera(url, table_name_prefix=prefix, expired_session_purge_interval=0)
    try:
        out = []
        for _ in range(times):
            session = t.syncio.refresh_session_without_request_response(refresh_token)
            token = session.get_all_session_tokens_dangerously()["refreshToken"]
            assert token is not None
            # The child verifies a token it signed itself, and reports it.
            out.append(token)
        return out
    finally:
        t.close()


def _verify_in_child(args: tuple[str, str, str]) -> str:
    url, prefix, access_token = args
    t = Tessera(url, table_name_prefix=prefix, expired_session_purge_interval=0)
    try:
        session = t.syncio.get_session_without_request_response(access_token, check_database=True)
        assert session is not None
        return session.get_user_id()
    finally:
        t.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_share_sessions_keys_and_rotation(
    backend: str, tmp_path: Path, table_prefix: str, store_factory: Callable[..., SqlStore]
) -> None:
    store_factory()  # creates the tables (and drops them afterwards)
    url = database_url(backend, tmp_path)
    parent = Tessera(url, table_name_prefix=table_prefix, expired_session_purge_interval=0)
    try:
        session = parent.syncio.create_new_session("user-1")
        tokens = session.get_all_session_tokens_dangerously()
        refresh = tokens["refreshToken"]
        assert refresh is not None
        context = multiprocessing.get_context("spawn")
        with context.Pool(4) as pool:
            users = pool.map(_verify_in_child, [(url, table_prefix, tokens["accessToken"])] * 4)
            successors = pool.map(_refresh_in_child, [(url, table_prefix, refresh, 3)] * 4)
        assert users == ["user-1"] * 4
        flat = [token for batch in successors for token in batch]
        assert len(flat) == 12
        assert len(set(flat)) == 1, "processes forked the session"
        renewed = parent.syncio.refresh_session_without_request_response(flat[0])
        assert parent.syncio.get_session_without_request_response(renewed.get_access_token())
    finally:
        parent.close()
