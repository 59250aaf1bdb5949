"""The app and tenant part of the storage contract (used by the core service)."""

from __future__ import annotations

from collections.abc import Callable

from tessera.storage import SqlStore

NOW = 1_800_000_000_000


def test_tenant_rows_are_created_once_then_replaced(store: SqlStore) -> None:
    assert store.put_tenant("app-1", "public", {"access_token_validity": "1"}, NOW)
    assert not store.put_tenant("app-1", "public", {"access_token_validity": "2"}, NOW + 5)
    row = store.get_tenant("app-1", "public")
    assert row is not None
    assert row.config == {"access_token_validity": "2"}
    assert row.created_at == NOW  # replacing keeps the creation time
    assert store.get_tenant("app-1", "other") is None
    assert store.get_tenant("app-2", "public") is None


def test_listing_by_app_and_overall(store: SqlStore) -> None:
    store.put_tenant("b", "public", {}, NOW)
    store.put_tenant("a", "t1", {"x": "y"}, NOW)
    store.put_tenant("a", "public", {}, NOW)
    listed = [(r.app_id, r.tenant_id) for r in store.list_tenants("a")]
    assert listed == [("a", "public"), ("a", "t1")]
    assert [(r.app_id, r.tenant_id) for r in store.list_tenants(None)] == [
        ("a", "public"),
        ("a", "t1"),
        ("b", "public"),
    ]


def test_deleting_a_tenant_or_a_whole_app(store: SqlStore) -> None:
    store.put_tenant("a", "public", {}, NOW)
    store.put_tenant("a", "t1", {}, NOW)
    store.put_tenant("b", "public", {}, NOW)
    assert store.delete_tenant("a", "t1")
    assert not store.delete_tenant("a", "t1")
    assert store.delete_tenant("a", None)
    assert store.list_tenants("a") == []
    assert store.get_tenant("b", "public") is not None


def test_apps_are_shared_between_stores(store_factory: Callable[..., SqlStore]) -> None:
    one, two = store_factory(), store_factory()
    one.for_app("x").put_tenant("x", "public", {"k": "v"}, NOW)
    seen = two.get_tenant("x", "public")
    assert seen is not None
    assert seen.config == {"k": "v"}
