from __future__ import annotations

import hashlib

import pytest

from tessera.engine.jws import MalformedToken
from tessera.engine.refresh_token import RefreshTokenCodec, hash_once, hash_twice

KEY = bytes(range(32))


def test_mint_parse_round_trip() -> None:
    codec = RefreshTokenCodec(KEY)
    token = codec.mint("h-1_acme", anti_csrf=True)
    parsed = codec.parse(token.text)
    assert parsed == token
    assert parsed.session_handle == "h-1_acme"


def test_successor_is_deterministic_and_distinct() -> None:
    codec = RefreshTokenCodec(KEY)
    token = codec.mint("h", anti_csrf=False)
    assert codec.successor(token) == codec.successor(token)
    assert codec.successor(token).text != token.text
    assert codec.parse(codec.successor(token).text) == codec.successor(token)


def test_anti_csrf_token_follows_the_refresh_token() -> None:
    codec = RefreshTokenCodec(KEY)
    with_csrf = codec.mint("h", anti_csrf=True)
    assert codec.anti_csrf_token(with_csrf) == codec.anti_csrf_token(with_csrf)
    assert codec.anti_csrf_token(with_csrf) != codec.anti_csrf_token(codec.successor(with_csrf))
    assert codec.anti_csrf_token(codec.mint("h", anti_csrf=False)) is None


def test_another_key_does_not_accept_our_tokens() -> None:
    token = RefreshTokenCodec(KEY).mint("h", anti_csrf=False)
    with pytest.raises(MalformedToken):
        RefreshTokenCodec(bytes(32)).parse(token.text)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RefreshTokenCodec(b"short")


def test_hash_chain_matches_the_documented_form() -> None:
    # sha256 hex of the token, then sha256 hex of that hex string.
    assert hash_once("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_twice("abc") == hashlib.sha256(hash_once("abc").encode()).hexdigest()


def test_each_token_carries_256_fresh_random_bits() -> None:
    """The secret part of a refresh token is a 32-byte random nonce (ASVS v5 7.2.3 asks
    for at least 128 bits), never repeated; a successor's nonce is as long."""
    codec = RefreshTokenCodec(KEY)
    minted = [codec.mint("h", anti_csrf=False) for _ in range(10_000)]
    assert {len(token.nonce) for token in minted} == {32}
    assert len({token.nonce for token in minted}) == len(minted)
    assert len({token.text for token in minted}) == len(minted)
    successor = codec.successor(minted[0])
    assert len(successor.nonce) == 32
    assert successor.nonce not in {token.nonce for token in minted}
    # No two nonces share even their first 8 bytes: they are not a counter or a clock.
    assert len({token.nonce[:8] for token in minted}) == len(minted)
