"""Properties of reading tokens off requests, over headers hypothesis makes up.

Cookie and ``Authorization`` parsing (``transport.py``) never fails on any text, reads
back exactly the token that was put in, and the verify and refresh flows behind them
accept a request only when it carries the genuine token; every other request ends in
a typed tessera error that the error table answers with 401 (or, for duplicated
refresh cookies, its own answer; never a 5xx). Run longer with
``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from tessera import (
    Tessera,
    TesseraError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from tessera.engine.jws import b64url_encode
from tessera.framework import FrameworkConfig
from tessera.framework.error_table import DuplicateCookiesError
from tessera.framework.flows import SessionLayer, VerifyOptions, refresh_flow, run_sync, verify_flow
from tessera.framework.transport import (
    RequestView,
    parse_cookies,
    read_access_token,
    read_refresh_token,
)

from .._support.clock import FakeClock

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: What can reach a WSGI/ASGI header value: Latin-1 text without line breaks.
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF) | st.sampled_from('\t;=," %'),
    max_size=300,
)
#: RFC 6265 cookie-octets, plus '%' escapes that the parser decodes.
cookie_value = st.text(st.sampled_from(B64URL + "!#$&'()*+-./:<>?@[]^`{|}~%"), max_size=60)
cookie_name = st.text(st.sampled_from(B64URL + "!#$&'*+.^`|~"), min_size=1, max_size=20)


@dataclass
class Live:
    tessera: Tessera
    access: str
    refresh: str
    anti_csrf: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("transport") / "s.db"
    t = Tessera(
        f"sqlite:///{path}",
        clock=FakeClock(),
        expired_session_purge_interval=0,
        anti_csrf="VIA_TOKEN",
    )
    tokens = t.syncio.create_new_session("victim").get_all_session_tokens_dangerously()
    assert tokens["refreshToken"] is not None
    assert tokens["antiCsrfToken"] is not None
    yield Live(t, tokens["accessToken"], tokens["refreshToken"], tokens["antiCsrfToken"])
    t.close()


def _mutant(token: str) -> st.SearchStrategy[str]:
    """A token with one to three characters changed, added or removed."""

    def apply(edits: list[tuple[int, int, str]]) -> str:
        text = token
        for kind, position, char in edits:
            at = position % (len(text) + 1)
            if kind == 0:
                text = text[:at] + char + text[at + 1 :]
            elif kind == 1:
                text = text[:at] + char + text[at:]
            else:
                text = text[:at] + text[at + 1 :]
        return text

    edit = st.tuples(st.integers(0, 2), st.integers(0, 10**4), st.sampled_from(B64URL + '.=%;" '))
    return st.lists(edit, min_size=1, max_size=3).map(apply)


# -- the parsers alone -----------------------------------------------------------------------


@given(header=st.text(st.characters(exclude_categories=()), max_size=400) | header_text)
def test_cookie_parsing_never_fails(header: str) -> None:
    cookies = parse_cookies(header)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cookies.items())
    view = RequestView(method="GET", path="/", headers={}, cookie_header=header)
    read_access_token(view, FrameworkConfig())
    read_refresh_token(view, FrameworkConfig())


@given(
    before=st.lists(st.tuples(cookie_name, cookie_value), max_size=5),
    after=st.lists(st.tuples(cookie_name, cookie_value), max_size=5),
    spacing=st.sampled_from(["; ", ";", " ; ", ";  "]),
)
def test_the_access_token_cookie_is_read_back_exactly(
    live: Live, before: list[tuple[str, str]], after: list[tuple[str, str]], spacing: str
) -> None:
    others = [(n, v) for n, v in before if n != "sAccessToken"]
    pairs = [*others, ("sAccessToken", live.access), *after]
    view = RequestView(
        method="GET",
        path="/",
        headers={},
        cookie_header=spacing.join(f"{n}={v}" for n, v in pairs),
    )
    assert read_access_token(view, FrameworkConfig()) == (live.access, "cookie")


@given(value=header_text)
def test_bearer_parsing_never_fails(value: str) -> None:
    view = RequestView(method="GET", path="/", headers={"authorization": value})
    token = view.bearer_token()
    assert token is None or (token == token.strip() and token != "")


@given(
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]),
    left=st.sampled_from(["", " ", "  "]),
    right=st.sampled_from(["", " ", "\t"]),
)
def test_bearer_tokens_are_read_back_exactly(
    live: Live, scheme: str, left: str, right: str
) -> None:
    for token, read in ((live.access, read_access_token), (live.refresh, read_refresh_token)):
        view = RequestView(
            method="GET", path="/", headers={"authorization": f"{left}{scheme} {token}{right}"}
        )
        assert read(view, FrameworkConfig()) == (token, "header")


# -- the flows behind them --------------------------------------------------------------------


@st.composite
def requests(draw: st.DrawFn, live: Live, refresh: bool) -> RequestView:
    """A request with a made-up mix of genuine, mutated and garbage tokens."""
    genuine = live.refresh if refresh else live.access
    _, payload, signature = live.access.split(".")
    deep = st.sampled_from([70, 1100, 1500, 3000]).map(
        lambda n: f"{b64url_encode(b'[' * n + b']' * n)}.{payload}.{signature}"
    )
    token = st.one_of(
        st.just(live.access),
        _mutant(genuine),
        _mutant(live.access),
        deep,
        st.text(st.sampled_from(B64URL + "."), max_size=400),
        header_text,
    )
    if refresh:
        token = token.filter(lambda t: t != live.refresh)
    cookies = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["sAccessToken", "sRefreshToken", "sIdRefreshToken", "other"])
                | cookie_name,
                token | cookie_value,
            ),
            max_size=4,
        )
    )
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["authorization"] = draw(st.sampled_from(["Bearer ", "bearer  ", "Basic "])) + draw(
            token
        )
    if draw(st.booleans()):
        headers["anti-csrf"] = draw(st.just(live.anti_csrf) | _mutant(live.anti_csrf) | header_text)
    if draw(st.booleans()):
        headers["rid"] = draw(st.sampled_from(["session", "anti-csrf", ""]))
    if draw(st.booleans()):
        headers["st-auth-mode"] = draw(st.sampled_from(["cookie", "header", "x"]))
    return RequestView(
        method="POST" if refresh else draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"])),
        path="/auth/session/refresh" if refresh else "/api",
        headers=headers,
        cookie_header="; ".join(f"{n}={v}" for n, v in cookies),
    )


def _carries(view: RequestView, token: str) -> bool:
    return token in view.headers.get("authorization", "") or token in view.cookie_header


def _settles(live: Live, view: RequestView, error: TesseraError) -> None:
    """The error table answers a session error with 401, and nothing with a 5xx."""
    event(type(error).__name__)
    layer = SessionLayer(live.tessera, FrameworkConfig())
    status = layer.exchange(view).fail(error).status
    if isinstance(error, DuplicateCookiesError):
        assert status < 500
    else:
        assert status == 401


@given(data=st.data())
def test_verify_accepts_only_requests_carrying_the_genuine_token(live: Live, data: Any) -> None:
    view = data.draw(requests(live, refresh=False))
    layer = SessionLayer(live.tessera, FrameworkConfig())
    exchange = layer.exchange(view)
    try:
        session = run_sync(verify_flow(exchange, VerifyOptions()), exchange)
    except (UnauthorisedError, TryRefreshTokenError) as error:
        _settles(live, view, error)
        return
    assert session is not None
    assert session.get_access_token() == live.access
    assert _carries(view, live.access)
    event("accepted")


@given(data=st.data())
def test_refresh_never_succeeds_or_cries_theft_without_the_genuine_token(
    live: Live, data: Any
) -> None:
    view = data.draw(requests(live, refresh=True))
    assume(not _carries(view, live.refresh))
    layer = SessionLayer(live.tessera, FrameworkConfig())
    exchange = layer.exchange(view)
    with pytest.raises((UnauthorisedError, DuplicateCookiesError)) as refused:
        run_sync(refresh_flow(exchange), exchange)
    assert not isinstance(refused.value, TokenTheftError)
    _settles(live, view, refused.value)


def test_the_genuine_tokens_still_work(live: Live) -> None:
    assert live.tessera.syncio.get_session_without_request_response(live.access, live.anti_csrf)
    refreshed = live.tessera.syncio.refresh_session_without_request_response(
        live.refresh, live.anti_csrf
    )
    assert refreshed.get_user_id() == "victim"
