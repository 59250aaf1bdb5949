"""Sealing key material under key-encryption keys (``engine/key_wrapping.py``): the
format, the binding of each ciphertext to its row, rotation, and the setting's checks."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera import KeyMaterialError, SessionConfig
from tessera.core.config import load_config
from tessera.engine.key_wrapping import (
    PREFIX,
    KeyWrapper,
    generate_key_encryption_key,
    key_encryption_key_id,
    sealed_with,
    secret_row,
    signing_key_row,
)

OLD, NEW = generate_key_encryption_key(), generate_key_encryption_key()
ROW = signing_key_row("public", "d-1800000000000")


def test_sealed_value_names_its_key_and_opens_to_the_plain_value() -> None:
    wrapper = KeyWrapper([NEW])
    sealed = wrapper.seal("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", ROW)
    kek_id = key_encryption_key_id(NEW)
    assert sealed.startswith(f"{PREFIX}{kek_id}:")
    assert "MIIEvQ" not in sealed
    assert sealed_with(sealed) == kek_id
    assert wrapper.open(sealed, ROW) == "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    # A fresh nonce each time: the same key sealed twice gives two ciphertexts.
    assert wrapper.seal("same", ROW) != wrapper.seal("same", ROW)


def test_without_keys_nothing_is_sealed_and_plain_text_always_reads() -> None:
    assert KeyWrapper().seal("plain", ROW) == "plain"
    assert KeyWrapper().open("plain", ROW) == "plain"
    # Turning encryption on: rows written before still read.
    assert KeyWrapper([NEW]).open("plain", ROW) == "plain"


@pytest.mark.parametrize(
    "elsewhere",
    [
        signing_key_row("public", "d-1800000000001"),  # another key of the app
        signing_key_row("shop", "d-1800000000000"),  # the same kid in another app
        secret_row("public", "d-1800000000000"),  # a secret's row
    ],
    ids=["other kid", "other app", "other kind"],
)
def test_a_ciphertext_moved_to_another_row_does_not_decrypt(elsewhere: object) -> None:
    wrapper = KeyWrapper([NEW])
    sealed = wrapper.seal("private key", ROW)
    with pytest.raises(KeyMaterialError, match="changed, or copied from another row") as caught:
        wrapper.open(sealed, elsewhere)  # type: ignore[arg-type]
    assert caught.value.reason == "does_not_decrypt"


def test_the_secret_of_one_app_does_not_open_as_another_apps() -> None:
    wrapper = KeyWrapper([NEW])
    sealed = wrapper.seal("c2VjcmV0", secret_row("shop", "refresh_token_key"))
    with pytest.raises(KeyMaterialError):
        wrapper.open(sealed, secret_row("public", "refresh_token_key"))


def test_rotation_newest_seals_any_configured_key_opens() -> None:
    before = KeyWrapper([OLD]).seal("private", ROW)
    rotated = KeyWrapper([NEW, OLD])
    assert rotated.open(before, ROW) == "private"
    assert not rotated.is_current(before)
    after = rotated.seal("private", ROW)
    assert sealed_with(after) == key_encryption_key_id(NEW)
    assert rotated.is_current(after)
    # Deploy order: a key listed second only decrypts, so processes that have it can
    # read what the first of them to switch will write.
    assert KeyWrapper([OLD, NEW]).open(after, ROW) == "private"
    assert sealed_with(KeyWrapper([OLD, NEW]).seal("x", ROW)) == key_encryption_key_id(OLD)


def test_a_missing_key_is_named() -> None:
    sealed = KeyWrapper([NEW]).seal("private", ROW)
    for wrapper in (KeyWrapper(), KeyWrapper([OLD])):
        with pytest.raises(KeyMaterialError) as caught:
            wrapper.open(sealed, ROW)
        assert caught.value.kek_id == key_encryption_key_id(NEW)
        assert caught.value.reason == "missing_key"
        assert key_encryption_key_id(NEW) in str(caught.value)
        assert "key_encryption_keys" in str(caught.value)
        assert "'d-1800000000000' of app 'public'" in str(caught.value)


@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_the_ciphertext_is_refused(position: int, flip: int) -> None:
    wrapper = KeyWrapper([NEW])
    sealed = wrapper.seal("a private key", ROW)
    head, body = sealed[: len(PREFIX) + 17], sealed[len(PREFIX) + 17 :]
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position % len(raw)] ^= flip
    tampered = head + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(KeyMaterialError):
        wrapper.open(tampered, ROW)


@pytest.mark.parametrize(
    "stored",
    [
        f"{PREFIX}",
        f"{PREFIX}:abc",
        f"{PREFIX}{key_encryption_key_id(NEW)}:%%%",
        f"{PREFIX}{key_encryption_key_id(NEW)}:",
        f"{PREFIX}forged\nERROR line:abc",  # an id that would write log lines of its own
    ],
)
def test_a_malformed_sealed_value_is_refused_not_taken_for_plain_text(stored: str) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        KeyWrapper([NEW]).open(stored, ROW)
    assert "\n" not in str(caught.value)


def test_generated_keys_are_43_characters_of_fresh_randomness() -> None:
    keys = {generate_key_encryption_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 43 and "=" not in k for k in keys)
    assert len({key_encryption_key_id(k) for k in keys}) == 50


def test_the_setting_takes_one_key_a_list_or_a_comma_separated_string() -> None:
    assert SessionConfig(key_encryption_keys=(NEW,)).key_encryption_keys == (NEW,)
    assert SessionConfig.from_settings({"key_encryption_keys": NEW}).key_encryption_keys == (NEW,)
    both = SessionConfig.from_settings({"key_encryption_keys": f" {NEW}, {OLD} ,"})
    assert both.key_encryption_keys == (NEW, OLD)
    padded = base64.urlsafe_b64encode(base64.urlsafe_b64decode(NEW + "=")).decode()
    assert SessionConfig(key_encryption_keys=(padded,)).key_encryption_keys == (padded,)
    assert SessionConfig().key_encryption_keys == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not-a-key", "key 1 is not 32 bytes"),
        (base64.urlsafe_b64encode(b"k" * 16).decode(), "key 1 is not 32 bytes"),  # AES-128
        (f"{NEW},{NEW}", "the same key is given twice"),
        ((NEW, 5), "key 2 is not a string"),
        (f"{NEW},{'é' * 43}", "key 2 is not 32 bytes"),
    ],
)
def test_bad_keys_are_refused_naming_the_setting_not_the_key(value: object, why: str) -> None:
    with pytest.raises(ValueError, match="key_encryption_keys") as caught:
        SessionConfig.from_settings({"key_encryption_keys": value})
    assert why in str(caught.value)
    assert NEW not in str(caught.value)


def test_keys_never_show_in_a_repr() -> None:
    assert NEW not in repr(SessionConfig(key_encryption_keys=(NEW,)))
    core = load_config(environ={"TESSERA_KEY_ENCRYPTION_KEYS": f"{NEW},{OLD}"})
    assert core.key_encryption_keys == (NEW, OLD)
    assert NEW not in repr(core)
    assert OLD not in repr(core)


def test_the_core_reads_them_from_yaml_or_the_environment(tmp_path: object) -> None:
    from pathlib import Path

    config = Path(str(tmp_path)) / "config.yaml"
    config.write_text(f"key_encryption_keys:\n  - {NEW}\n  - {OLD}\n")
    assert load_config(config, environ={}).key_encryption_keys == (NEW, OLD)
    config.write_text(f"key_encryption_keys: {NEW}\n")
    assert load_config(config, environ={}).key_encryption_keys == (NEW,)
    from_env = load_config(config, environ={"TESSERA_KEY_ENCRYPTION_KEYS": OLD})
    assert from_env.key_encryption_keys == (OLD,)  # the environment wins
    with pytest.raises(ValueError, match="invalid config key_encryption_keys: key 1"):
        load_config(environ={"TESSERA_KEY_ENCRYPTION_KEYS": "short"})
