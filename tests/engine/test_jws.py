from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tessera.engine import jws
from tessera.engine.keys import generate_key


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_sign_parse_verify_round_trip(algorithm: str) -> None:
    key = generate_key(algorithm, dynamic=True, now=1)
    token = jws.sign({"alg": algorithm, "kid": key.kid}, {"sub": "ü", "n": 1}, key.private_key)
    parsed = jws.parse(token)
    assert parsed.header == {"alg": algorithm, "kid": key.kid}
    assert parsed.payload == {"sub": "ü", "n": 1}
    assert jws.verify_signature(parsed, key.public_key, algorithm)
    other = generate_key(algorithm, dynamic=True, now=2)
    assert not jws.verify_signature(parsed, other.public_key, algorithm)


@pytest.mark.parametrize("data", [b"", b"a", b"ab", b"abc", bytes(range(256))])
def test_base64url_round_trip(data: bytes) -> None:
    assert jws.b64url_decode(jws.b64url_encode(data)) == data


@pytest.mark.parametrize("text", ["a", "ab=", "a+b/", "YQ", "YR", "Y Q", "!!!!"])
def test_base64url_rejects_other_spellings(text: str) -> None:
    # "YQ" is canonical for b"a"; "YR" decodes to the same byte with stray bits set.
    if text == "YQ":
        assert jws.b64url_decode(text) == b"a"
        return
    with pytest.raises(jws.MalformedToken):
        jws.b64url_decode(text)


# -- nesting, crit and ECDSA malleability ----------------------------------------------

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _deep(levels: int) -> bytes:
    return b'{"a":' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize("text", [b"[" * 1500 + b"]" * 1500, _deep(1500), _deep(64)])
def test_deeply_nested_segment_is_malformed_not_a_recursion_error(where: str, text: bytes) -> None:
    key = generate_key("EdDSA", dynamic=True, now=1)
    header, payload, signature = jws.sign({"alg": "EdDSA"}, {"n": 1}, key.private_key).split(".")
    deep = jws.b64url_encode(text)
    token = f"{deep}.{payload}.{signature}" if where == "header" else f"{header}.{deep}.{signature}"
    with pytest.raises(jws.MalformedToken):
        jws.parse(token)


def test_nesting_up_to_the_limit_parses() -> None:
    key = generate_key("EdDSA", dynamic=True, now=1)
    value: object = 1
    for _ in range(63):  # 63 arrays inside the payload object: 64 levels
        value = [value]
    token = jws.sign({"alg": "EdDSA"}, {"a": value}, key.private_key)
    assert jws.parse(token).payload == {"a": value}


@pytest.mark.parametrize(
    "number", [2**64 + 1, -(2**63) - 1, 10**30 + 7, -(10**40) - 3, 2**63 - 1, -(2**63)]
)
def test_integers_past_64_bits_keep_every_digit(number: int) -> None:
    key = generate_key("EdDSA", dynamic=True, now=1)
    claims = {"n": number, "nested": [{"m": number}], "hash": "f" + "1" * 30}
    payload = jws.parse(jws.sign({"alg": "EdDSA"}, claims, key.private_key)).payload
    assert payload == claims
    assert type(payload["n"]) is int


def test_big_integers_still_parse_but_nan_does_not() -> None:
    # The exact parser that big integers need must not add NaN and Infinity.
    key = generate_key("EdDSA", dynamic=True, now=1)
    token = jws.sign({"alg": "EdDSA"}, {"n": 2**80 + 1}, key.private_key)
    assert jws.parse(token).payload == {"n": 2**80 + 1}
    header, _, signature = token.split(".")
    for text in (
        b'{"n":NaN,"m":1}',
        b'{"n":Infinity}',
        b'{"n":-Infinity, "m":1}',
        b'{"n":1e999,"m":100000000000000000000000}',
    ):
        with pytest.raises(jws.MalformedToken):
            jws.parse(f"{header}.{jws.b64url_encode(text)}.{signature}")


def _signed_raw(payload: bytes) -> str:
    """A token over exactly ``payload`` (which ``jws.sign`` would never write)."""
    key = generate_key("EdDSA", dynamic=True, now=1).private_key
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    signing_input = jws.b64url_encode(b'{"alg":"EdDSA"}') + "." + jws.b64url_encode(payload)
    return signing_input + "." + jws.b64url_encode(key.sign(signing_input.encode()))


@pytest.mark.parametrize(
    "text",
    [rb'{"sub":"\ud800"}', rb'{"\udfff":1}', rb'{"n":123456789012345678901,"s":"\ud800"}'],
)
def test_lone_surrogates_are_malformed_even_under_a_good_signature(text: bytes) -> None:
    with pytest.raises(jws.MalformedToken):
        jws.parse(_signed_raw(text))


def test_escaped_surrogate_pairs_are_text() -> None:
    assert jws.parse(_signed_raw(rb'{"s":"\ud83d\ude00"}')).payload == {"s": "\U0001f600"}


def test_a_signed_header_with_crit_is_refused() -> None:
    key = generate_key("EdDSA", dynamic=True, now=1)
    header = {"alg": "EdDSA", "crit": ["exp"], "exp": 1}
    with pytest.raises(jws.MalformedToken, match="critical"):
        jws.parse(jws.sign(header, {"n": 1}, key.private_key))


def test_es256_signatures_are_low_s_and_the_high_s_twin_is_refused() -> None:
    key = generate_key("ES256", dynamic=True, now=1)
    for n in range(40):  # each signature has a ~1/2 chance of coming out high-S unfixed
        token = jws.sign({"alg": "ES256"}, {"n": n}, key.private_key)
        parsed = jws.parse(token)
        r, s = parsed.signature[:32], int.from_bytes(parsed.signature[32:], "big")
        assert s <= _P256_ORDER // 2
        assert jws.verify_signature(parsed, key.public_key, "ES256")
        twin = r + (_P256_ORDER - s).to_bytes(32, "big")
        forged = jws.parse(token.rpartition(".")[0] + "." + jws.b64url_encode(twin))
        assert not jws.verify_signature(forged, key.public_key, "ES256")
