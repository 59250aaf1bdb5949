"""The store as a whole (``storage/__init__.py``, ``storage/_store.py``): opening
one by URL, scoping by app, exact ids everywhere. Part of the storage contract, run on
every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tessera import StorageError
from tessera.storage import KeyRecord, SessionMatch, SqlStore, open_store

from .._support.records import NOW, record


def test_bad_urls_are_caller_errors() -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme"):
        open_store("redis://localhost")
    with pytest.raises(ValueError, match="needs a path"):
        open_store("sqlite://")


def test_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        open_store("postgresql://nobody@127.0.0.1:1/none")


def test_schema_creation_is_idempotent(store_factory: Callable[..., SqlStore]) -> None:
    first = store_factory()
    first.create_session(record())
    second = store_factory()
    assert second.load_session("h1") == record()


def test_stores_are_scoped_by_app(store: SqlStore) -> None:
    other = store.for_app("shop")
    store.create_session(record("h1"))
    other.create_session(record("h1", user_id="shop-user"))
    assert store.load_session("h1") is not None
    shop_session = other.load_session("h1")
    assert shop_session is not None
    assert shop_session.user_id == "shop-user"
    assert other.delete_sessions(["h1"]) == ["h1"]
    assert store.load_session("h1") is not None


def test_ids_compare_exactly_trailing_spaces_included(store: SqlStore) -> None:
    # MySQL's utf8mb4_bin ignores trailing spaces: "bob " used to revoke bob's sessions.
    store.create_session(record("h1", user_id="bob"))
    store.create_session(record("h2", user_id="bob ", tenant_id="acme"))
    assert store.load_session("h1 ") is None
    assert not store.replace_session_data("h1 ", {}, NOW)
    assert not store.update_access_token_payload("h1 ", lambda p: p, NOW)
    rotate: dict[str, Any] = {
        "rotated_at": NOW,
        "expires_at": NOW + 1,
        "ip": None,
        "user_agent": None,
        "use_static_key": False,
    }
    assert not store.rotate_refresh_token("h1 ", expected_hash="hash-0", new_hash="x", **rotate)
    assert not store.rotate_refresh_token("h1", expected_hash="hash-0 ", new_hash="x", **rotate)
    assert store.list_session_handles_for_user("bob", None, NOW) == ["h1"]
    assert store.list_session_handles_for_user("bob ", None, NOW) == ["h2"]
    assert store.list_session_handles_for_user("bob ", "acme ", NOW) == []
    assert store.delete_matching_sessions(SessionMatch(user_id="bob  "), NOW) == []
    assert store.delete_sessions(["h1 ", " h1", "h2 "]) == []
    assert store.delete_matching_sessions(SessionMatch(user_id="bob "), NOW) == ["h2"]
    assert store.load_session("h1") is not None
    assert store.for_app("public ").load_session("h1") is None
    store.add_signing_key(KeyRecord("k", "ES256", NOW, "pub", "priv"))
    store.add_signing_key(KeyRecord("k ", "ES256", NOW + 1, "pub2", "priv2"))
    assert [key.kid for key in store.list_signing_keys()] == ["k", "k "]
    assert store.get_or_create_secret("s", "one", NOW) == "one"
    assert store.get_or_create_secret("s ", "two", NOW) == "two"
    assert store.put_tenant("app", "t1", {}, NOW)
    assert store.put_tenant("app", "t1 ", {}, NOW)
    assert store.get_tenant("app ", "t1") is None
