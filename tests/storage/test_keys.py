"""Signing keys and secrets (``storage/_keys.py``): part of the storage contract,
run on every backend."""

from __future__ import annotations

from tessera.storage import KeyRecord, SqlStore

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
