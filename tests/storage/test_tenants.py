"""Apps and tenants (``storage/_tenants.py``, used by the core service): part of the
storage contract, run on every backend."""

from __future__ import annotations

from collections.abc import Callable

from tessera.storage import KeyRecord, SqlStore

from .._support.records import NOW, record


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
    assert store.delete_tenant("a", "t1").existed
    assert not store.delete_tenant("a", "t1").existed
    assert store.delete_tenant("a", None).existed
    assert store.list_tenants("a") == []
    assert store.get_tenant("b", "public") is not None


def test_apps_are_shared_between_stores(store_factory: Callable[..., SqlStore]) -> None:
    one, two = store_factory(), store_factory()
    one.for_app("x").put_tenant("x", "public", {"k": "v"}, NOW)
    seen = two.get_tenant("x", "public")
    assert seen is not None
    assert seen.config == {"k": "v"}


def test_removing_a_tenant_or_an_app_removes_what_it_owns(store: SqlStore) -> None:
    gone, kept = store.for_app("gone"), store.for_app("kept")
    for app in (gone, kept):
        store.put_tenant(app.app_id, "public", {}, NOW)
        store.put_tenant(app.app_id, "blue", {}, NOW)
        app.create_session(record("p1"))
        app.create_session(record("b1_blue", tenant_id="blue"))
        app.add_signing_key(KeyRecord("d-1", "RS256", NOW, "pub", "priv"))
        app.get_or_create_secret("refresh_token_key", "old", NOW)
    assert store.delete_tenant("gone", "blue").revoked == ["b1_blue"]
    assert gone.load_session("b1_blue") is None
    assert gone.load_session("p1") is not None
    assert store.delete_tenant("gone", None).revoked == ["p1"]
    assert gone.load_session("p1") is None
    assert gone.list_signing_keys() == []
    assert gone.get_or_create_secret("refresh_token_key", "new", NOW) == "new"
    assert store.list_tenants("gone") == []
    # Another app with the same handles and tenant names keeps everything.
    assert kept.load_session("p1") is not None
    assert kept.load_session("b1_blue") is not None
    assert [k.kid for k in kept.list_signing_keys()] == ["d-1"]
    assert kept.get_or_create_secret("refresh_token_key", "new", NOW) == "old"
    assert [r.tenant_id for r in store.list_tenants("kept")] == ["blue", "public"]
