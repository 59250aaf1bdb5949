"""Properties of token parsing, over inputs hypothesis makes up.

Whatever text arrives as an access token, a refresh token or an anti-CSRF token, the
engine either accepts exactly a token it signed or refuses with a session error
(``UnauthorisedError``/``TryRefreshTokenError``; ``MalformedToken`` from the parsers
below the engine). No other exception, and no change to a genuine token, is ever
accepted. Run longer with ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tessera import Tessera, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from tessera.engine import jws
from tessera.engine.refresh_token import RefreshTokenCodec

from .._support.clock import FakeClock

SESSION_ERRORS = (UnauthorisedError, TryRefreshTokenError)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Characters a mutation may put in: the token alphabet and what a parser may trip on.
MUTANT_CHARS = B64URL + '.=+/ \t\x00é\ud800\udfff\u2028😀"[]{}%'


@dataclass
class Issued:
    tessera: Tessera
    clock: FakeClock
    access: str
    refresh: str
    anti_csrf: str
    handle: str

    def signing_key(self) -> Any:
        return self.tessera.engine.keys.signing_key(self.clock(), dynamic=True)


@pytest.fixture(scope="module", params=["RS256", "ES256", "EdDSA"])
def issued(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Issued]:
    clock = FakeClock()
    path = tmp_path_factory.mktemp("props") / "s.db"
    t = Tessera(
        f"sqlite:///{path}",
        clock=clock,
        expired_session_purge_interval=0,
        access_token_signing_algorithm=request.param,
        anti_csrf="VIA_TOKEN",
    )
    session = t.syncio.create_new_session("victim", {"perms": ["read"], "n": 2**70})
    tokens = session.get_all_session_tokens_dangerously()
    assert tokens["refreshToken"] is not None
    assert tokens["antiCsrfToken"] is not None
    yield Issued(
        t,
        clock,
        tokens["accessToken"],
        tokens["refreshToken"],
        tokens["antiCsrfToken"],
        session.get_handle(),
    )
    t.close()


# -- strategies ---------------------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=()), max_size=400)
token_like = st.text(st.sampled_from(MUTANT_CHARS), max_size=600)
edits = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]),
        st.integers(min_value=0, max_value=10**6),
        st.sampled_from(MUTANT_CHARS),
    ),
    min_size=1,
    max_size=4,
)


def mutate(token: str, changes: list[tuple[str, int, str]]) -> str:
    for kind, position, char in changes:
        at = position % (len(token) + 1)
        if kind == "replace" and at < len(token):
            token = token[:at] + char + token[at + 1 :]
        elif kind == "insert":
            token = token[:at] + char + token[at:]
        elif kind == "delete":
            token = token[:at] + token[at + 1 :]
        elif kind == "truncate":
            token = token[:at]
        else:
            token = token[:at] + token[at : at + 8] + token[at:]
    return token


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def hostile_json_text(draw: st.DrawFn) -> bytes:
    """JSON text (or nearly): deep nesting, NaN, duplicate keys, huge numbers, raw bytes."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        depth = draw(st.integers(50, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = opener * depth + "1" + closer * depth
        return ('{"x":' + inner + "}").encode()
    if choice == 1:
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]))
        return ('{"sub":' + constant + "}").encode()
    if choice == 2:
        return b'{"sub":"a","sub":"b","exp":1,"exp":99999999999}'
    if choice == 3:
        return draw(st.binary(max_size=300))
    if choice == 4:
        digits = draw(st.integers(20, 6000))
        return ('{"exp":' + "9" * digits + "}").encode()
    value = draw(json_values)
    return json.dumps({"v": value}, ensure_ascii=draw(st.booleans())).encode(
        "utf-8", "surrogatepass"
    )


def verify(issued: Issued, token: Any, anti_csrf: Any = None) -> str | None:
    """The token a verification accepted, or ``None`` when it refused with a session error."""
    try:
        session = issued.tessera.syncio.get_session_without_request_response(
            token, issued.anti_csrf if anti_csrf is None else anti_csrf
        )
    except SESSION_ERRORS:
        return None
    assert session is not None
    return session.get_access_token()


# -- access tokens -----------------------------------------------------------------------------


@given(text=any_text | token_like)
def test_jws_parse_accepts_or_raises_malformed(text: str) -> None:
    try:
        parsed = jws.parse(text)
    except jws.MalformedToken:
        return
    assert isinstance(parsed.header, dict)
    assert isinstance(parsed.payload, dict)


@given(text=any_text | token_like)
def test_any_text_is_refused_with_a_session_error(issued: Issued, text: str) -> None:
    assume(text != issued.access)
    assert verify(issued, text) is None


@given(changes=edits)
def test_no_mutation_of_a_genuine_token_is_accepted(issued: Issued, changes: Any) -> None:
    mutated = mutate(issued.access, changes)
    assume(mutated != issued.access)
    assert verify(issued, mutated) is None
    assert verify(issued, issued.access) == issued.access


@given(text=hostile_json_text(), where=st.sampled_from(["header", "payload"]))
def test_hostile_json_under_a_genuine_signature_is_refused(
    issued: Issued, text: bytes, where: str
) -> None:
    header, payload, signature = issued.access.split(".")
    segment = jws.b64url_encode(text)
    token = (
        f"{segment}.{payload}.{signature}"
        if where == "header"
        else f"{header}.{segment}.{signature}"
    )
    assume(token != issued.access)
    assert verify(issued, token) is None


@given(extra=json_values)
def test_what_the_app_key_signs_verifies_to_exactly_what_was_signed(
    issued: Issued, extra: Any
) -> None:
    """Claims re-signed with the app's own key: accepted with exactly those claims."""
    try:
        json.dumps(extra, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        assume(False)  # text with lone surrogates cannot be signed at all
    claims = {**jws.parse(issued.access).payload, "extra": extra}
    key = issued.signing_key()
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": "5"}
    token = jws.sign(header, claims, key.private_key)
    session = issued.tessera.syncio.get_session_without_request_response(token, issued.anti_csrf)
    assert session is not None
    assert session.get_access_token() == token
    assert session.get_access_token_payload() == claims


@given(csrf=any_text | token_like)
def test_anti_csrf_tokens_other_than_the_genuine_one_are_refused(issued: Issued, csrf: str) -> None:
    assume(csrf != issued.anti_csrf)
    assert verify(issued, issued.access, csrf) is None


# -- refresh tokens -------------------------------------------------------------------------------


@given(text=any_text | token_like)
def test_refresh_codec_accepts_only_what_it_issued(text: str) -> None:
    codec = RefreshTokenCodec(b"k" * 32)
    genuine = codec.mint("handle", anti_csrf=True)
    try:
        parsed = codec.parse(text)
    except jws.MalformedToken:
        return
    assert parsed == genuine  # only possible if hypothesis guessed a 48-byte MAC'd secret


@given(changes=edits)
def test_refresh_codec_refuses_every_mutation(changes: Any) -> None:
    codec = RefreshTokenCodec(b"k" * 32)
    genuine = codec.mint("0b7c-handle_acme", anti_csrf=True).text
    mutated = mutate(genuine, changes)
    assume(mutated != genuine)
    with pytest.raises(jws.MalformedToken):
        codec.parse(mutated)


def _refresh(issued: Issued, token: Any, anti_csrf: Any) -> None:
    with pytest.raises(UnauthorisedError) as refused:
        issued.tessera.syncio.refresh_session_without_request_response(token, anti_csrf)
    assert not isinstance(refused.value, TokenTheftError)


@given(text=any_text | token_like)
def test_any_text_as_a_refresh_token_is_unauthorised_never_theft(issued: Issued, text: str) -> None:
    assume(text != issued.refresh)
    _refresh(issued, text, issued.anti_csrf)


@given(changes=edits)
def test_mutated_refresh_tokens_are_unauthorised_never_theft(issued: Issued, changes: Any) -> None:
    mutated = mutate(issued.refresh, changes)
    assume(mutated != issued.refresh)
    _refresh(issued, mutated, issued.anti_csrf)


@given(csrf=any_text | token_like)
def test_refresh_with_a_wrong_anti_csrf_token_is_unauthorised(issued: Issued, csrf: str) -> None:
    assume(csrf != issued.anti_csrf)
    _refresh(issued, issued.refresh, csrf)


def test_the_genuine_tokens_still_work_after_all_that(issued: Issued) -> None:
    assert verify(issued, issued.access) == issued.access
    assert issued.tessera.syncio.get_session_information(issued.handle) is not None
    assert math.isfinite(issued.clock())
