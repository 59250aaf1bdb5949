"""Signing keys and secrets (``storage/_keys.py``): part of the storage contract,
run on every backend."""

from __future__ import annotations

from tessera.storage import KeyRecord, SqlStore, StoredKeyMaterial

from .._support.records import NOW


def test_signing_keys_round_trip_and_ignore_duplicates(store: SqlStore) -> None:
    key = KeyRecord("d-1", "RS256", NOW, "pub", "priv")
    store.add_signing_key(key)
    store.add_signing_key(KeyRecord("d-1", "RS256", NOW, "other", "other"))
    store.add_signing_key(KeyRecord("d-2", "ES256", NOW + 1, "pub2", "priv2"))
    assert store.list_signing_keys() == [key, KeyRecord("d-2", "ES256", NOW + 1, "pub2", "priv2")]
    assert store.for_app("other").list_signing_keys() == []
    store.delete_signing_keys(["d-1"])
    assert [k.kid for k in store.list_signing_keys()] == ["d-2"]


def test_secret_is_created_once(store: SqlStore) -> None:
    assert store.get_or_create_secret("k", "first", NOW) == "first"
    assert store.get_or_create_secret("k", "second", NOW) == "first"
    assert store.for_app("other").get_or_create_secret("k", "third", NOW) == "third"


def test_key_material_is_listed_per_app_or_for_every_app(store: SqlStore) -> None:
    store.add_signing_key(KeyRecord("d-2", "RS256", NOW, "pub", "priv-2"))
    store.add_signing_key(KeyRecord("d-1", "RS256", NOW, "pub", "priv-1"))
    store.get_or_create_secret("refresh_token_key", "secret-public", NOW)
    shop = store.for_app("shop")
    shop.add_signing_key(KeyRecord("d-1", "ES256", NOW, "pub", "priv-shop"))
    shop.get_or_create_secret("refresh_token_key", "secret-shop", NOW)
    assert store.list_key_material() == [
        StoredKeyMaterial("signing_key", "public", "d-1", "priv-1"),
        StoredKeyMaterial("signing_key", "public", "d-2", "priv-2"),
        StoredKeyMaterial("secret", "public", "refresh_token_key", "secret-public"),
    ]
    assert shop.list_key_material() == [
        StoredKeyMaterial("signing_key", "shop", "d-1", "priv-shop"),
        StoredKeyMaterial("secret", "shop", "refresh_token_key", "secret-shop"),
    ]
    every = store.list_key_material(every_app=True)
    assert [(m.kind, m.app_id, m.name) for m in every] == [
        ("signing_key", "public", "d-1"),
        ("signing_key", "public", "d-2"),
        ("signing_key", "shop", "d-1"),
        ("secret", "public", "refresh_token_key"),
        ("secret", "shop", "refresh_token_key"),
    ]


def test_replacing_key_material_is_a_compare_and_swap(store: SqlStore) -> None:
    store.add_signing_key(KeyRecord("d-1", "RS256", NOW, "pub", "priv"))
    store.get_or_create_secret("s", "old", NOW)
    store.for_app("shop").get_or_create_secret("s", "old", NOW)
    key, secret = store.list_key_material()
    assert store.replace_key_material(key, "sealed-priv")
    assert not store.replace_key_material(key, "again")  # no longer holds "priv"
    assert store.list_signing_keys() == [KeyRecord("d-1", "RS256", NOW, "pub", "sealed-priv")]
    assert store.replace_key_material(secret, "sealed-old")
    assert not store.replace_key_material(secret, "again")
    assert store.get_or_create_secret("s", "new", NOW) == "sealed-old"
    # Only the named app's row changes, and a row that is gone is not written.
    assert store.for_app("shop").get_or_create_secret("s", "new", NOW) == "old"
    store.delete_signing_keys(["d-1"])
    gone = StoredKeyMaterial("signing_key", "public", "d-1", "sealed-priv")
    assert not store.replace_key_material(gone, "x")
    assert store.list_signing_keys() == []


def test_a_value_differing_only_in_case_or_spaces_is_not_swapped(store: SqlStore) -> None:
    # base64 is case-sensitive: the comparison must be exact on every backend.
    store.get_or_create_secret("s", "AbC", NOW)
    for wrong in ("abc", "AbC "):
        assert not store.replace_key_material(
            StoredKeyMaterial("secret", "public", "s", wrong), "x"
        )
    assert store.get_or_create_secret("s", "y", NOW) == "AbC"
