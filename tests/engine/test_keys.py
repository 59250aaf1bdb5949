"""Signing-key rotation: publish before use, verify until every token has expired."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera import Tessera, TryRefreshTokenError
from tessera.engine.keys import OVERLAP_MS, generate_key, needs_new_dynamic_key, signing_key_for

from .._support.clock import FakeClock

HOUR = 3_600_000


def test_new_key_is_due_one_overlap_before_the_interval_ends() -> None:
    key = generate_key("ES256", dynamic=True, now=0)
    assert not needs_new_dynamic_key([key], HOUR - OVERLAP_MS - 1, HOUR)
    assert needs_new_dynamic_key([key], HOUR - OVERLAP_MS, HOUR)


def test_a_new_key_signs_only_after_its_publication_window() -> None:
    old = generate_key("ES256", dynamic=True, now=0)
    new = generate_key("ES256", dynamic=True, now=HOUR - OVERLAP_MS)
    assert signing_key_for([old, new], HOUR - OVERLAP_MS + 1, HOUR) is old
    assert signing_key_for([old, new], HOUR, HOUR) is new


def _kid(token: str) -> str:
    import jwt

    return str(jwt.get_unverified_header(token)["kid"])


def test_rotation_never_invalidates_a_live_token(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    # One-hour keys, ten-minute tokens.
    t = make_tessera(
        access_token_dynamic_signing_key_update_interval=1,
        access_token_validity=600,
        access_token_signing_algorithm="ES256",
    )
    first = t.syncio.create_new_session("user-1").get_access_token()
    clock.advance(3600 - 30)  # inside the next key's publication window
    published = {k["kid"] for k in t.syncio.get_jwks()["keys"]}
    assert len(published) == 2, "the next key must be in the JWKS before it signs"
    assert _kid(t.syncio.create_new_session("user-1").get_access_token()) == _kid(first)
    clock.advance(60)
    second = t.syncio.create_new_session("user-1").get_access_token()
    assert _kid(second) != _kid(first)
    # A token signed by the old key just before the switch still verifies to its end.
    late_old = t.engine.keys.verification_key(_kid(first), clock())
    assert late_old is not None
    clock.advance(590)
    assert t.syncio.get_session_without_request_response(second) is not None
    # Once the old key is retired, its tokens (long expired anyway) are refused.
    clock.advance(3 * 3600)
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(first)


def test_other_process_learns_a_new_key_from_the_store(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    settings = {
        "access_token_dynamic_signing_key_update_interval": 1,
        "access_token_signing_algorithm": "EdDSA",
    }
    first, second = make_tessera(**settings), make_tessera(**settings)
    second.syncio.get_jwks()  # second has loaded its keys
    clock.advance(3600)
    token = first.syncio.create_new_session("user-1").get_access_token()  # first rotates
    # second has never seen this kid: it reloads from the store instead of refusing.
    assert second.syncio.get_session_without_request_response(token) is not None


def test_unknown_kids_reload_the_store_at_most_once_a_second(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(access_token_signing_algorithm="ES256")
    t.syncio.create_new_session("user-1")
    calls = 0
    real = t.store.list_signing_keys

    def counting() -> list:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        return real()

    t.store.list_signing_keys = counting  # type: ignore[method-assign]
    keyring = t.engine.keys
    for i in range(100):
        assert keyring.verification_key(f"d-{i}", clock()) is None
    assert calls == 0  # loaded moments ago by create
    clock.advance(1.5)
    for i in range(100):
        assert keyring.verification_key(f"d-x{i}", clock()) is None
    assert calls == 1


def test_jwks_lists_public_parts_only(make_tessera: Callable[..., Tessera]) -> None:
    t = make_tessera()
    jwks = t.syncio.get_jwks()
    assert jwks["keys"]
    for key in jwks["keys"]:
        assert set(key) == {"kty", "kid", "n", "e", "alg", "use"}
        assert key["kid"].startswith("d-")
    assert "PRIVATE" not in repr(t.engine.keys._keys)


def test_a_remembered_token_is_refused_once_its_key_retires(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(
        access_token_dynamic_signing_key_update_interval=1,
        access_token_validity=600,
        access_token_signing_algorithm="ES256",
    )
    token = t.syncio.create_new_session("user-1").get_access_token()
    assert t.syncio.get_session_without_request_response(token) is not None
    # Past the key's whole lifetime (interval + 2 validities), while keeping the token's
    # own expiry out of the way by checking the key rule directly.
    kid = _kid(token)
    clock.advance(3600 + 2 * 600 + 1)
    t.syncio.get_jwks()  # rotation happens, the retired key is dropped
    assert not t.engine.keys.is_live(kid, clock())
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(token)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_schedule_shows_which_key_signs_and_when_the_next_takes_over(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(
        access_token_dynamic_signing_key_update_interval=1,
        access_token_validity=600,
        access_token_signing_algorithm="ES256",
    )
    start = clock()
    first = t.engine.keys.schedule(start)
    assert [(k.created_at, k.dynamic, k.signing) for k in first.keys] == [(start, True, True)]
    assert first.keys[0].verifies_until == start + HOUR + 2 * 600_000
    assert first.next_rotation_at == start + HOUR
    assert first.rotation_interval_ms == HOUR
    clock.advance(3600 - 30)  # the next key is published, the first still signs
    published = t.engine.keys.schedule(clock())
    assert [k.signing for k in published.keys] == [False, True]
    newest = published.keys[0].created_at
    assert published.next_rotation_at == newest + OVERLAP_MS
    assert not any("private" in name for name in vars(published.keys[0]))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_static_key_never_rotates(make_tessera: Callable[..., Tessera], clock: FakeClock) -> None:
    t = make_tessera(use_dynamic_access_token_signing_key=False)
    schedule = t.engine.keys.schedule(clock())
    assert [(k.dynamic, k.signing, k.verifies_until) for k in schedule.keys] == [
        (False, True, None)
    ]
    assert schedule.next_rotation_at is None
