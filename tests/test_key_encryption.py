"""Signing keys and secrets encrypted at rest (``key_encryption_keys``), on SQLite,
PostgreSQL and MariaDB: what the tables hold, what an attacker can do with them, turning
encryption on, rotating and re-encrypting without logging anyone out, and the error when
a key is missing."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tessera import KeyMaterialError, SessionConfig, Tessera
from tessera.admin.operations import SessionAdmin
from tessera.engine.key_material import rewrap_key_material
from tessera.engine.key_wrapping import (
    PREFIX,
    KeyWrapper,
    Row,
    generate_key_encryption_key,
    key_encryption_key_id,
    sealed_with,
    secret_row,
    signing_key_row,
)
from tessera.engine.refresh_token import RefreshTokenCodec
from tessera.engine.sessions import SessionEngine
from tessera.error_answers import cdi_answer, framework_answer
from tessera.storage import KeyRecord, SqlStore, StoredKeyMaterial

from ._support.clock import FakeClock

K1, K2 = generate_key_encryption_key(), generate_key_encryption_key()
FAST: dict[str, Any] = {"access_token_signing_algorithm": "ES256"}


def _sql(store: object) -> SqlStore:
    assert isinstance(store, SqlStore)
    return store


def _keys(given: object) -> list[tuple[Any, ...]]:
    """The signing keys as the table holds them, read with SQL as an attacker would."""
    store = _sql(given)
    return store._fetch(
        f"SELECT app_id, kid, algorithm, created_at, public_key, private_key "
        f"FROM {store.prefix}signing_keys ORDER BY app_id, kid"
    )


def _secrets(given: object) -> list[tuple[Any, ...]]:
    store = _sql(given)
    return store._fetch(
        f"SELECT app_id, name, value, created_at FROM {store.prefix}secrets ORDER BY app_id, name"
    )


def _stored_values(store: object) -> list[str]:
    return [row[5] for row in _keys(store)] + [row[2] for row in _secrets(store)]


def _body(sealed: str) -> bytes:
    """The nonce and ciphertext of a sealed value, as bytes."""
    body = sealed.rsplit(":", 1)[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _row(item: StoredKeyMaterial) -> Row:
    return Row(item.kind, item.app_id, item.name)


def _tokens(session: Any) -> dict[str, Any]:
    return dict(session.get_all_session_tokens_dangerously())


def _refresh(app: Tessera, tokens: dict[str, Any]) -> dict[str, Any]:
    renewed = app.syncio.refresh_session_without_request_response(
        tokens["refreshToken"], tokens["antiCsrfToken"]
    )
    return _tokens(renewed)


def test_the_tables_hold_no_private_key_and_no_secret_in_plain_text(
    make_tessera: Callable[..., Tessera],
) -> None:
    app = make_tessera(key_encryption_keys=[K1])  # RS256, the default
    tokens = _tokens(app.syncio.create_new_session("user-1"))
    tokens = _refresh(app, tokens)
    assert app.syncio.get_session_without_request_response(tokens["accessToken"]) is not None

    wrapper = KeyWrapper([K1])
    keys, secrets = _keys(app.store), _secrets(app.store)
    assert len(keys) == 1
    assert len(secrets) == 1
    for app_id, kid, _algorithm, _created, public, stored in keys:
        assert stored.startswith(f"{PREFIX}{key_encryption_key_id(K1)}:")
        plain = wrapper.open(stored, signing_key_row(app_id, kid))
        der = base64.b64decode(plain)
        private = serialization.load_der_private_key(der, password=None)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        assert b"PRIVATE KEY" in pem  # what a plain-text key would have given away
        assert "PRIVATE KEY" not in stored
        assert plain not in stored
        assert der not in _body(stored)
        assert der[:64] not in _body(stored)
        # It is the key that signs the sessions' tokens.
        claims = jwt.decode(
            tokens["accessToken"],
            private.public_key(),  # type: ignore[arg-type]
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False},  # the test's clock is ahead
        )
        assert claims["sub"] == "user-1"
        assert jwt.get_unverified_header(tokens["accessToken"])["kid"] == kid
        assert public  # the public part stays readable: it is public
    for app_id, name, stored, _created in secrets:
        assert name == "refresh_token_key"
        assert stored.startswith(f"{PREFIX}{key_encryption_key_id(K1)}:")
        plain = wrapper.open(stored, secret_row(app_id, name))
        raw = base64.b64decode(plain)
        assert len(raw) == 32
        assert plain not in stored
        assert raw not in _body(stored)
        # It is the key that authenticates the session's refresh tokens.
        assert RefreshTokenCodec(raw).parse(tokens["refreshToken"]).session_handle


def test_a_key_copied_to_a_row_of_its_own_choosing_does_not_decrypt(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera(key_encryption_keys=[K1], **FAST)
    app.syncio.create_new_session("user-1")
    _app_id, _kid, algorithm, created, public, private = _keys(app.store)[0]
    # Someone who can write the table plants the ciphertext under a newer kid, the one
    # that would sign next; it does not decrypt there, and nothing starts with it.
    newer = f"d-{int(created) + 1}"
    app.store.add_signing_key(KeyRecord(newer, algorithm, int(created) + 1, public, private))
    with pytest.raises(KeyMaterialError, match=f"'{newer}' of app 'public' does not decrypt") as e:
        make_tessera(key_encryption_keys=[K1], **FAST)
    assert e.value.reason == "does_not_decrypt"
    # A process that was running refuses it when it loads the key set again.
    clock.advance(2)
    with pytest.raises(KeyMaterialError):
        app.engine.keys.verification_key("d-unknown", clock())


def test_an_apps_secret_copied_to_another_app_does_not_decrypt(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera(key_encryption_keys=[K1], **FAST)
    app.syncio.create_new_session("user-1")
    (_app_id, name, value, created) = _secrets(app.store)[0]
    shop = app.store.for_app("shop")
    assert shop.get_or_create_secret(name, value, int(created)) == value  # planted
    engine = SessionEngine(SessionConfig(key_encryption_keys=(K1,), **FAST), shop)
    with pytest.raises(KeyMaterialError, match="'refresh_token_key' of app 'shop'"):
        engine.create_new_session("user-1", None, None, "public", now=clock())
    assert _secrets(app.store)[1][2] == value  # and no new secret was made in its stead


def test_turning_encryption_on_and_rewrapping_keeps_every_session(
    make_tessera: Callable[..., Tessera],
) -> None:
    before = make_tessera(**FAST)
    first = _tokens(before.syncio.create_new_session("user-1"))
    assert not any(v.startswith(PREFIX) for v in _stored_values(before.store))

    # A process with the key reads the plain rows, so turning it on is safe.
    turned_on = make_tessera(key_encryption_keys=[K1], **FAST)
    assert turned_on.syncio.get_session_without_request_response(first["accessToken"])
    second = _refresh(turned_on, first)

    report = turned_on.rewrap_key_material()
    assert (report.rewrapped, report.already_current, report.changed_elsewhere) == (2, 0, 0)
    stored = _stored_values(turned_on.store)
    assert all(sealed_with(v) == key_encryption_key_id(K1) for v in stored)
    again = turned_on.rewrap_key_material()
    assert (again.rewrapped, again.already_current) == (0, 2)
    assert _stored_values(turned_on.store) == stored  # idempotent: nothing rewritten

    # A process started after the rewrap decrypts the same key and secret: the token
    # signed before encryption was turned on still verifies, the session still refreshes.
    after = make_tessera(key_encryption_keys=[K1], **FAST)
    assert after.syncio.get_session_without_request_response(first["accessToken"])
    assert after.syncio.get_session_without_request_response(second["accessToken"])
    third = _refresh(after, second)
    assert before.syncio.get_session_without_request_response(first["accessToken"])
    assert after.syncio.get_session_without_request_response(third["accessToken"])


def test_rotating_the_key_encryption_key(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    hourly = {**FAST, "access_token_dynamic_signing_key_update_interval": 1}
    hourly["access_token_validity"] = 7200
    old = make_tessera(key_encryption_keys=[K1], **hourly)
    first = _tokens(old.syncio.create_new_session("user-1"))

    # The new key first, the old one after it: the new one seals, both open.
    rotated = make_tessera(key_encryption_keys=[K2, K1], **hourly)
    assert rotated.syncio.get_session_without_request_response(first["accessToken"])
    first = _refresh(rotated, first)
    clock.advance(3600)  # the next signing key is made by a process with the new list
    second = _tokens(rotated.syncio.create_new_session("user-2"))
    by_kek = [sealed_with(v) for v in _stored_values(rotated.store)]
    k1, k2 = key_encryption_key_id(K1), key_encryption_key_id(K2)
    assert by_kek == [k1, k2, k1]  # the old signing key, the new one, the secret

    report = rotated.rewrap_key_material()
    assert (report.rewrapped, report.already_current) == (2, 1)
    assert {sealed_with(v) for v in _stored_values(rotated.store)} == {k2}

    # The old key can now go: a process given only the new one serves every session.
    newest_only = make_tessera(key_encryption_keys=[K2], **hourly)
    for tokens in (first, second):
        assert newest_only.syncio.get_session_without_request_response(tokens["accessToken"])
        _refresh(newest_only, tokens)
    # And one given only the old key refuses to start, naming the key it lacks.
    with pytest.raises(KeyMaterialError, match=k2):
        make_tessera(key_encryption_keys=[K1], **hourly)


def test_a_missing_key_is_a_clear_error_that_logs_nobody_out(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    running = make_tessera(**FAST)  # started before encryption was turned on
    keyed = make_tessera(key_encryption_keys=[K1], **FAST)
    tokens = _tokens(keyed.syncio.create_new_session("user-1"))
    stored = (_keys(keyed.store), _secrets(keyed.store))

    with pytest.raises(KeyMaterialError) as refused:
        make_tessera(**FAST)
    assert refused.value.reason == "missing_key"
    assert refused.value.kek_id == key_encryption_key_id(K1)
    assert f"key-encryption key {key_encryption_key_id(K1)}" in str(refused.value)

    # A process that was already running fails each call with the same error: not a
    # key of its own, not "unauthorised", not theft.
    clock.advance(2)
    calls: list[Callable[[], object]] = [
        lambda: running.syncio.get_session_without_request_response(tokens["accessToken"]),
        lambda: running.syncio.refresh_session_without_request_response(
            tokens["refreshToken"], tokens["antiCsrfToken"]
        ),
        lambda: running.syncio.create_new_session("user-2"),
        lambda: running.syncio.get_jwks(),
    ]
    for call in calls:
        with pytest.raises(KeyMaterialError, match=key_encryption_key_id(K1)):
            call()
    assert (_keys(keyed.store), _secrets(keyed.store)) == stored  # nothing made in their stead
    # The session is untouched: with the key it verifies and refreshes.
    assert keyed.syncio.get_session_without_request_response(tokens["accessToken"])
    _refresh(keyed, tokens)
    # What the web adapters and the core answer: a server error that keeps the tokens.
    answer = framework_answer(refused.value)
    assert (answer.status, answer.clearing) == (500, "keep")
    assert cdi_answer(KeyMaterialError).status == 500


def test_processes_creating_the_secret_at_once_agree_on_one(
    make_tessera: Callable[..., Tessera],
) -> None:
    apps = [make_tessera(key_encryption_keys=[K1], **FAST) for _ in range(4)]
    start = threading.Barrier(len(apps))

    def first_login(app: Tessera) -> dict[str, Any]:
        start.wait()
        return _tokens(app.syncio.create_new_session("user-1"))

    with ThreadPoolExecutor(len(apps)) as pool:
        tokens = list(pool.map(first_login, apps))
    # Each sealed a secret of its own; the stored one won and each decrypted that one,
    # so every process refreshes every other's sessions.
    for i, app in enumerate(apps):
        _refresh(app, tokens[(i + 1) % len(apps)])
    (_app_id, name, value, _created), *others = _secrets(apps[0].store)
    assert not others
    raw = base64.b64decode(KeyWrapper([K1]).open(value, secret_row("public", name)))
    assert all(RefreshTokenCodec(raw).parse(t["refreshToken"]) for t in tokens)


def test_the_stored_secret_wins_over_the_one_this_process_sealed(
    make_tessera: Callable[..., Tessera], store: SqlStore, clock: FakeClock
) -> None:
    # Another process won the insert with its own value, sealed under the same key.
    theirs = base64.b64encode(b"t" * 32).decode()
    sealed = KeyWrapper([K1]).seal(theirs, secret_row("public", "refresh_token_key"))
    store.get_or_create_secret("refresh_token_key", sealed, clock())
    app = make_tessera(key_encryption_keys=[K1], **FAST)
    refresh = _tokens(app.syncio.create_new_session("user-1"))["refreshToken"]
    assert RefreshTokenCodec(b"t" * 32).parse(refresh).session_handle
    assert [row[2] for row in _secrets(store)] == [sealed]


def test_rewrap_from_several_processes_at_once(
    store_factory: Callable[..., SqlStore], clock: FakeClock
) -> None:
    seed = store_factory()
    apps = ["public", "shop", "blog"]
    for app_id in apps:
        engine = SessionEngine(SessionConfig(**FAST), seed.for_app(app_id))
        engine.create_new_session("user-1", None, None, "public", now=clock())
    old = KeyWrapper([K1])
    for item in seed.list_key_material(every_app=True)[:2]:  # some rows under an old key
        assert seed.replace_key_material(item, old.seal(item.value, _row(item)))
    rows = len(seed.list_key_material(every_app=True))
    assert rows == 2 * len(apps)

    wrapper = KeyWrapper([K2, K1])
    stores = [store_factory(pool_size=1) for _ in range(4)]
    start = threading.Barrier(len(stores))

    def rewrap(store: SqlStore) -> Any:
        start.wait()
        return rewrap_key_material(store, wrapper)

    with ThreadPoolExecutor(len(stores)) as pool:
        reports = list(pool.map(rewrap, stores))
    # Each row was re-encrypted exactly once, by whichever process won its swap.
    assert sum(r.rewrapped for r in reports) == rows
    for r in reports:
        assert r.rewrapped + r.already_current + r.changed_elsewhere == rows
        assert not r.unreadable
    for item in seed.list_key_material(every_app=True):
        assert sealed_with(item.value) == key_encryption_key_id(K2)
        assert KeyWrapper([K2]).open(item.value, _row(item))
    for app_id in apps:  # and every app still works with the new key only
        engine = SessionEngine(
            SessionConfig(key_encryption_keys=(K2,), **FAST), seed.for_app(app_id)
        )
        engine.create_new_session("user-2", None, None, "public", now=clock())


def test_rewrap_needs_a_key_and_reports_rows_it_cannot_read(
    make_tessera: Callable[..., Tessera],
) -> None:
    plain = make_tessera(**FAST)
    with pytest.raises(ValueError, match="key_encryption_keys is empty"):
        plain.rewrap_key_material()
    keyed = make_tessera(key_encryption_keys=[K1], **FAST)
    keyed.syncio.create_new_session("user-1")
    # A process holding another key only: the rows under K1 are reported, left alone.
    report = rewrap_key_material(keyed.store, KeyWrapper([K2]))
    assert report.rewrapped == 0
    assert {e.kek_id for e in report.unreadable} == {key_encryption_key_id(K1)}
    assert len(report.unreadable) == 2
    assert {sealed_with(v) for v in _stored_values(keyed.store)} == {key_encryption_key_id(K1)}


def test_keys_are_decrypted_when_loaded_never_per_verification(
    make_tessera: Callable[..., Tessera],
) -> None:
    keyed = make_tessera(key_encryption_keys=[K1], **FAST)
    tokens = _tokens(keyed.syncio.create_new_session("user-1"))
    fresh = make_tessera(key_encryption_keys=[K1], **FAST)
    wrapper = fresh.engine.keys.wrapper
    opened: list[str] = []
    real_open = wrapper.open

    def counting_open(stored: str, row: Any) -> str:
        opened.append(row.name)
        return real_open(stored, row)

    wrapper.open = counting_open  # type: ignore[method-assign]
    for _ in range(200):
        assert fresh.syncio.get_session_without_request_response(tokens["accessToken"])
    assert len(opened) == 1  # the signing key, when the key set was first read
    for _ in range(3):
        tokens = _refresh(fresh, tokens)
    assert len(opened) == 2  # and the refresh-token key, once


def test_the_admin_consoles_secret_is_sealed_too_and_survives_a_rewrap(
    make_tessera: Callable[..., Tessera],
) -> None:
    # Whoever holds the console's secret can make its login cookies: it is key material.
    plain = make_tessera(**FAST)
    before = SessionAdmin(plain).secret()
    keyed = make_tessera(key_encryption_keys=[K1], **FAST)
    assert SessionAdmin(keyed).secret() == before  # the plain row still reads
    assert keyed.rewrap_key_material().rewrapped == 1
    (app_id, name, value, _created) = _secrets(keyed.store)[0]
    assert (app_id, name) == ("public", "admin_console_key")
    assert sealed_with(value) == key_encryption_key_id(K1)
    assert base64.b64encode(before).decode() not in value
    assert before not in _body(value)
    # A process started after the rewrap has the same secret: no operator is logged out.
    after = make_tessera(key_encryption_keys=[K1], **FAST)
    assert SessionAdmin(after).secret() == before
