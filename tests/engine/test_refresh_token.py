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
