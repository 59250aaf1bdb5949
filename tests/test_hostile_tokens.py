"""Tokens as an attacker would send them.

Every one must end in ``TryRefreshTokenError`` or ``UnauthorisedError`` (never another
exception, never a session), and a garbage refresh token must never be mistaken for
theft: that would let anyone who knows a session handle log its owner out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tessera import Tessera, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from tessera.engine import jws
from tessera.engine.jws import b64url_encode

from ._support.clock import FakeClock

TRY, UNAUTH = TryRefreshTokenError, UnauthorisedError


class Victim:
    def __init__(self, tessera: Tessera, clock: FakeClock) -> None:
        self.t, self.clock = tessera, clock
        session = tessera.syncio.create_new_session("victim", {"role": "user"}, tenant_id="acme")
        tokens = session.get_all_session_tokens_dangerously()
        self.access = tokens["accessToken"]
        assert tokens["refreshToken"] is not None
        self.refresh = tokens["refreshToken"]
        self.handle = session.get_handle()
        self.header, self.payload, self.signature = self.access.split(".")

    def decoded(self, part: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))

    def with_header(self, **changes: Any) -> str:
        header = {**self.decoded(self.header), **changes}
        header = {k: v for k, v in header.items() if v is not _DROP}
        return f"{_enc(header)}.{self.payload}.{self.signature}"

    def with_claims(self, **changes: Any) -> str:
        payload = {**self.decoded(self.payload), **changes}
        payload = {k: v for k, v in payload.items() if v is not _DROP}
        return f"{self.header}.{_enc(payload)}.{self.signature}"

    def public_key_pem(self) -> bytes:
        kid = self.decoded(self.header)["kid"]
        key = self.t.engine.keys.verification_key(kid, self.clock())
        assert key is not None
        return key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


_DROP = object()


def _enc(value: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode())


def _hs256_with_public_key(v: Victim) -> str:
    """The classic confusion attack: sign with HMAC, using the public key as the secret."""
    header = _enc({**v.decoded(v.header), "alg": "HS256"})
    signing_input = f"{header}.{v.payload}".encode()
    sig = hmac.new(v.public_key_pem(), signing_input, hashlib.sha256).digest()
    return f"{header}.{v.payload}.{b64url_encode(sig)}"


def _signed_with_crit(v: Victim) -> str:
    """Signed with the app's own key, but naming a critical extension we do not know."""
    key = v.t.engine.keys.signing_key(v.clock(), dynamic=True)
    header = {**v.decoded(v.header), "crit": ["urn:example:must-understand"]}
    header["urn:example:must-understand"] = True
    return jws.sign(header, v.decoded(v.payload), key.private_key)


def _signed_with_a_lone_surrogate(v: Victim) -> str:
    """Signed with the app's own key, over claims that are not Unicode text."""
    key = v.t.engine.keys.signing_key(v.clock(), dynamic=True)
    claims = json.dumps({**v.decoded(v.payload), "antiCsrfToken": "\ud800"}).encode()
    signing_input = f"{v.header}.{b64url_encode(claims)}".encode()
    signature = key.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg,arg-type]
    return f"{signing_input.decode()}.{b64url_encode(signature)}"


def _deep(levels: int) -> str:
    return b64url_encode(b'{"a":' + b"[" * levels + b"]" * levels + b"}")


def _flip_last_signature_bits(v: Victim) -> str:
    # The last base64 character of a 256-byte signature carries 4 unused bits; setting
    # them gives a different spelling of the same signature, which must be refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = v.signature[-1]
    spelled = alphabet[alphabet.index(last) | 0b0011]
    assert spelled != last
    return f"{v.header}.{v.payload}.{v.signature[:-1]}{spelled}"


ACCESS_CASES: dict[str, tuple[Callable[[Victim], Any], type[Exception]]] = {
    "empty": (lambda v: "", UNAUTH),
    "one segment": (lambda v: "abc", UNAUTH),
    "two segments": (lambda v: f"{v.header}.{v.payload}", UNAUTH),
    "four segments": (lambda v: v.access + ".x", UNAUTH),
    "dots only": (lambda v: "..", UNAUTH),
    "not a string": (lambda v: 12345, UNAUTH),
    "bytes": (lambda v: v.access.encode(), UNAUTH),
    "truncated by 10": (lambda v: v.access[:-10], TRY),
    "truncated to half": (lambda v: v.access[: len(v.access) // 2], UNAUTH),
    "signature removed": (lambda v: f"{v.header}.{v.payload}.", TRY),
    "signature of another token": (lambda v: f"{v.header}.{v.payload}.{'A' * 342}", TRY),
    "non-canonical signature": (_flip_last_signature_bits, UNAUTH),
    "padded base64": (lambda v: v.access + "==", UNAUTH),
    "standard base64 alphabet": (lambda v: v.access.replace("-", "+").replace("_", "/"), UNAUTH),
    "non-ascii": (lambda v: v.access[:-1] + "é", UNAUTH),
    "huge": (lambda v: v.access + "A" * 1_000_000, UNAUTH),
    "header not json": (lambda v: f"{b64url_encode(b'nope')}.{v.payload}.{v.signature}", UNAUTH),
    "payload a json list": (lambda v: f"{v.header}.{b64url_encode(b'[1]')}.{v.signature}", UNAUTH),
    "claim changed (sub)": (lambda v: v.with_claims(sub="admin"), TRY),
    "claim changed (tenant)": (lambda v: v.with_claims(tId="public"), TRY),
    "claim changed (exp)": (lambda v: v.with_claims(exp=v.decoded(v.payload)["exp"] + 10**6), TRY),
    "exp as string": (lambda v: v.with_claims(exp="9999999999"), UNAUTH),
    "exp as float": (lambda v: v.with_claims(exp=9999999999.5), UNAUTH),
    "exp as bool": (lambda v: v.with_claims(exp=True), UNAUTH),
    "required claim missing": (lambda v: v.with_claims(sessionHandle=_DROP), UNAUTH),
    "oauth token type": (lambda v: v.with_claims(stt=1), UNAUTH),
    "alg none": (lambda v: f"{_enc({**v.decoded(v.header), 'alg': 'none'})}.{v.payload}.", TRY),
    "alg HS256 with public key": (_hs256_with_public_key, TRY),
    "alg ES256 on an RSA key": (lambda v: v.with_header(alg="ES256"), TRY),
    "alg missing": (lambda v: v.with_header(alg=_DROP), UNAUTH),
    "unknown kid": (lambda v: v.with_header(kid="d-1"), TRY),
    "kid missing": (lambda v: v.with_header(kid=_DROP), UNAUTH),
    "kid not a string": (lambda v: v.with_header(kid=7), UNAUTH),
    "version 4": (lambda v: v.with_header(version="4"), UNAUTH),
    "version as number": (lambda v: v.with_header(version=5), UNAUTH),
    "typ changed": (lambda v: v.with_header(typ="at+jwt"), UNAUTH),
    "header nested 1500 deep": (lambda v: f"{_deep(1500)}.{v.payload}.{v.signature}", UNAUTH),
    "payload nested 1500 deep": (lambda v: f"{v.header}.{_deep(1500)}.{v.signature}", UNAUTH),
    "payload nested 65 deep": (lambda v: f"{v.header}.{_deep(64)}.{v.signature}", UNAUTH),
    "lone surrogate": (lambda v: v.access[:-1] + "\ud800", UNAUTH),
    "signed, with an unknown crit extension": (_signed_with_crit, UNAUTH),
    "signed, with a lone surrogate": (_signed_with_a_lone_surrogate, UNAUTH),
}


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Victim]:
    clock = FakeClock()
    path = Path(tmp_path_factory.mktemp("hostile")) / "s.db"
    t = Tessera(f"sqlite:///{path}", clock=clock, expired_session_purge_interval=0)
    yield Victim(t, clock)
    t.close()


@pytest.mark.parametrize("case", list(ACCESS_CASES))
def test_hostile_access_token_is_rejected_with_a_session_error(victim: Victim, case: str) -> None:
    make, expected = ACCESS_CASES[case]
    token = make(victim)
    with pytest.raises(expected):
        victim.t.syncio.get_session_without_request_response(token)
    # The genuine token still works: the attack broke nothing.
    assert victim.t.syncio.get_session_without_request_response(victim.access) is not None


def test_expired_token_is_try_refresh(victim: Victim) -> None:
    victim.clock.advance(3601)
    try:
        with pytest.raises(TryRefreshTokenError):
            victim.t.syncio.get_session_without_request_response(victim.access)
    finally:
        victim.clock.advance(-3601)


def test_token_signed_by_another_app_with_the_same_kid(victim: Victim, tmp_path: Path) -> None:
    other = Tessera(
        f"sqlite:///{tmp_path}/other.db", clock=victim.clock, expired_session_purge_interval=0
    )
    try:
        forged = other.syncio.create_new_session("victim", tenant_id="acme").get_access_token()
        header, payload, signature = forged.split(".")
        # Give the forgery the victim app's key id: the signature still does not match.
        spoofed = f"{_enc({**victim.decoded(header), 'kid': victim.decoded(victim.header)['kid']})}"
        for token in (forged, f"{spoofed}.{payload}.{signature}"):
            with pytest.raises(TryRefreshTokenError):
                victim.t.syncio.get_session_without_request_response(token)
    finally:
        other.close()


REFRESH_CASES: dict[str, Callable[[Victim], Any]] = {
    "empty": lambda v: "",
    "garbage": lambda v: "not-a-token",
    "not a string": lambda v: None,
    "handle with a made-up secret": lambda v: f"{v.handle}.n.{'A' * 64}",
    "mark flipped": lambda v: v.refresh.replace(".n.", ".a."),
    "handle swapped": lambda v: v.refresh.replace(
        v.handle, "00000000-0000-4000-8000-000000000000_acme"
    ),
    "truncated": lambda v: v.refresh[:-4],
    "extended": lambda v: v.refresh + "AAAA",
    "huge": lambda v: v.refresh + "A" * 100_000,
    "access token instead": lambda v: v.access,
    "lone surrogate in front": lambda v: "\ud800" + v.refresh,
    "lone surrogate as the handle": lambda v: v.refresh.replace(v.handle, "\ud800"),
    "NUL in the handle": lambda v: v.refresh.replace(v.handle, v.handle + "\x00"),
}


@pytest.mark.parametrize("case", list(REFRESH_CASES))
def test_hostile_refresh_token_is_unauthorised_not_theft(victim: Victim, case: str) -> None:
    token = REFRESH_CASES[case](victim)
    with pytest.raises(UnauthorisedError) as caught:
        victim.t.syncio.refresh_session_without_request_response(token)
    assert not isinstance(caught.value, TokenTheftError)
    # The victim's session survived.
    assert victim.t.syncio.get_session_information(victim.handle) is not None


def test_refresh_token_of_another_app_is_unauthorised(victim: Victim, tmp_path: Path) -> None:
    other = Tessera(
        f"sqlite:///{tmp_path}/other.db", clock=victim.clock, expired_session_purge_interval=0
    )
    try:
        foreign = other.syncio.create_new_session("victim").get_all_session_tokens_dangerously()
        assert foreign["refreshToken"] is not None
        with pytest.raises(UnauthorisedError):
            victim.t.syncio.refresh_session_without_request_response(foreign["refreshToken"])
    finally:
        other.close()


def test_a_token_verified_by_one_app_is_not_trusted_by_another(
    victim: Victim, tmp_path: Path
) -> None:
    other = Tessera(
        f"sqlite:///{tmp_path}/other.db", clock=victim.clock, expired_session_purge_interval=0
    )
    try:
        foreign = other.syncio.create_new_session("victim", tenant_id="acme").get_access_token()
        assert (
            other.syncio.get_session_without_request_response(foreign) is not None
        )  # now cached there
        with pytest.raises(TryRefreshTokenError):
            victim.t.syncio.get_session_without_request_response(foreign)
    finally:
        other.close()


def test_remembered_verification_still_expires(victim: Victim) -> None:
    assert victim.t.syncio.get_session_without_request_response(victim.access) is not None
    victim.clock.advance(3601)
    try:
        with pytest.raises(TryRefreshTokenError):
            victim.t.syncio.get_session_without_request_response(victim.access)
    finally:
        victim.clock.advance(-3601)


def test_es256_high_s_twin_of_a_genuine_token_is_refused(tmp_path: Path) -> None:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    t = Tessera(
        f"sqlite:///{tmp_path}/es.db",
        clock=FakeClock(),
        expired_session_purge_interval=0,
        access_token_signing_algorithm="ES256",
    )
    try:
        for _ in range(8):  # unfixed, each token has a 1/2 chance of a high-S twin being low-S
            token = t.syncio.create_new_session("victim").get_access_token()
            assert t.syncio.get_session_without_request_response(token) is not None
            signing_input, _, signature = token.rpartition(".")
            raw = jws.b64url_decode(signature)
            s = int.from_bytes(raw[32:], "big")
            twin = f"{signing_input}.{b64url_encode(raw[:32] + (order - s).to_bytes(32, 'big'))}"
            with pytest.raises(TryRefreshTokenError):
                t.syncio.get_session_without_request_response(twin)
    finally:
        t.close()


def test_anti_csrf_token_with_a_lone_surrogate_is_a_session_error(tmp_path: Path) -> None:
    t = Tessera(
        f"sqlite:///{tmp_path}/csrf.db",
        clock=FakeClock(),
        expired_session_purge_interval=0,
        anti_csrf="VIA_TOKEN",
    )
    try:
        tokens = t.syncio.create_new_session("victim").get_all_session_tokens_dangerously()
        assert tokens["refreshToken"] is not None
        with pytest.raises(TryRefreshTokenError):
            t.syncio.get_session_without_request_response(tokens["accessToken"], "\ud800")
        with pytest.raises(UnauthorisedError):
            t.syncio.refresh_session_without_request_response(tokens["refreshToken"], "\ud800")
        # Neither broke the session.
        assert t.syncio.refresh_session_without_request_response(
            tokens["refreshToken"], tokens["antiCsrfToken"]
        )
    finally:
        t.close()
