"""The official SuperTokens Python SDK (from PyPI) against a running tessera core:
every session function, theft, key rotation, database checks, tenants, and two core
processes over one PostgreSQL database."""

from __future__ import annotations

import asyncio
import functools
import os
import warnings
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec

import httpx
import pytest

from .._support.cores import StartCore, new_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from supertokens_python import InputAppInfo, Supertokens, SupertokensConfig, init
    from supertokens_python.querier import Querier
    from supertokens_python.recipe import session
    from supertokens_python.recipe.accountlinking.recipe import AccountLinkingRecipe
    from supertokens_python.recipe.jwt import JWTRecipe
    from supertokens_python.recipe.multitenancy.recipe import MultitenancyRecipe
    from supertokens_python.recipe.oauth2provider.recipe import OAuth2ProviderRecipe
    from supertokens_python.recipe.openid.recipe import OpenIdRecipe
    from supertokens_python.recipe.session import SessionRecipe
    from supertokens_python.recipe.session import asyncio as st
    from supertokens_python.recipe.session.exceptions import (
        TokenTheftError,
        TryRefreshTokenError,
        UnauthorisedError,
    )
    from supertokens_python.recipe.usermetadata import UserMetadataRecipe
    from supertokens_python.types import RecipeUserId

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

P = ParamSpec("P")


def in_own_loop(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test on a fresh event loop in its own thread, so it passes whatever
    else holds this thread's loop (a session-wide Playwright, for one)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, test(*args, **kwargs)).result()

    return run


def _reset() -> None:
    for recipe in (
        SessionRecipe,
        AccountLinkingRecipe,
        JWTRecipe,
        MultitenancyRecipe,
        OAuth2ProviderRecipe,
        OpenIdRecipe,
        UserMetadataRecipe,
    ):
        recipe.reset()  # type: ignore[no-untyped-call]
    Supertokens.reset()  # type: ignore[no-untyped-call]
    Querier.reset()  # type: ignore[no-untyped-call]


@pytest.fixture(autouse=True)
def sdk_environment() -> Iterator[None]:
    os.environ["SUPERTOKENS_ENV"] = "testing"  # lets the SDK be reset between tests
    _reset()
    yield
    _reset()


def use_core(connection_uri: str, **session_settings: Any) -> None:
    init(
        supertokens_config=SupertokensConfig(connection_uri=connection_uri),
        app_info=InputAppInfo(
            app_name="conformance",
            api_domain="http://api.example.com",
            website_domain="http://example.com",
        ),
        framework="fastapi",
        mode="asgi",
        recipe_list=[session.init(anti_csrf="VIA_TOKEN", **session_settings)],
    )


def refresh_token(tokens: Mapping[str, Any]) -> str:
    value = tokens["refreshToken"]
    assert isinstance(value, str)
    return value


def kid_of(token: str) -> str:
    import jwt

    return str(jwt.get_unverified_header(token)["kid"])


@in_own_loop
async def test_create_verify_refresh_and_theft(core: str) -> None:
    use_core(new_app(core))
    created = await st.create_new_session_without_request_response(
        "public", RecipeUserId("alice"), {"role": "admin"}, {"cart": 1}
    )
    assert created.get_user_id() == "alice"
    assert created.get_access_token_payload()["role"] == "admin"
    tokens = created.get_all_session_tokens_dangerously()
    assert tokens["refreshToken"]
    assert tokens["antiCsrfToken"]
    assert kid_of(tokens["accessToken"]).startswith("d-")

    verified = await st.get_session_without_request_response(
        tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
    )
    assert verified is not None
    assert verified.get_handle() == created.get_handle()

    refreshed = await st.refresh_session_without_request_response(
        refresh_token(tokens), False, tokens["antiCsrfToken"]
    )
    new_tokens = refreshed.get_all_session_tokens_dangerously()
    assert new_tokens["refreshToken"] != tokens["refreshToken"]
    # Replaying the old refresh token before the new tokens are used is no theft
    # (a retry after a lost answer): the same session goes on.
    replay = await st.refresh_session_without_request_response(
        refresh_token(tokens), False, tokens["antiCsrfToken"]
    )
    assert replay.get_handle() == created.get_handle()

    # The first use of the new access token confirms the refresh, and the core hands
    # out a replacement token that later verifies locally.
    confirmed = await st.get_session_without_request_response(
        new_tokens["accessToken"], new_tokens["antiCsrfToken"]
    )
    assert confirmed is not None
    assert confirmed.get_all_session_tokens_dangerously()["accessAndFrontTokenUpdated"]

    with pytest.raises(TokenTheftError) as theft:
        await st.refresh_session_without_request_response(
            refresh_token(tokens), False, tokens["antiCsrfToken"]
        )
    assert theft.value.session_handle == created.get_handle()
    assert theft.value.user_id == "alice"
    assert theft.value.recipe_user_id.get_as_string() == "alice"
    # The core only reports theft (as the SuperTokens core does): a caller of
    # refresh_session_without_request_response decides, and until it does the same
    # stale token is theft again.
    assert await st.get_session_information(created.get_handle()) is not None
    with pytest.raises(TokenTheftError):
        await st.refresh_session_without_request_response(
            refresh_token(tokens), False, tokens["antiCsrfToken"]
        )
    assert await st.revoke_session(theft.value.session_handle)
    assert await st.get_session_information(created.get_handle()) is None


@in_own_loop
async def test_session_data_payload_and_regeneration(core: str) -> None:
    use_core(new_app(core))
    created = await st.create_new_session_without_request_response(
        "public", RecipeUserId("bob"), {"a": 1}, {"db": 1}
    )
    handle = created.get_handle()
    info = await st.get_session_information(handle)
    assert info is not None
    assert info.session_data_in_database == {"db": 1}
    assert info.custom_claims_in_access_token_payload["a"] == 1
    assert info.tenant_id == "public"

    assert await st.update_session_data_in_database(handle, {"db": 2})
    assert not await st.update_session_data_in_database("no-such-handle", {"db": 2})
    assert await st.merge_into_access_token_payload(handle, {"b": 2, "a": None})
    info = await st.get_session_information(handle)
    assert info is not None
    assert info.session_data_in_database == {"db": 2}
    assert info.custom_claims_in_access_token_payload.get("b") == 2
    assert "a" not in info.custom_claims_in_access_token_payload

    # A change made on a live session re-signs its access token at once.
    await created.merge_into_access_token_payload({"c": 3})
    assert created.get_access_token_payload()["c"] == 3
    again = await st.get_session_without_request_response(
        created.get_access_token(), created.get_all_session_tokens_dangerously()["antiCsrfToken"]
    )
    assert again is not None
    assert again.get_access_token_payload()["c"] == 3
    await created.update_session_data_in_database({"db": 3})
    assert await created.get_session_data_from_database() == {"db": 3}


@in_own_loop
async def test_revocation_and_database_checks(core: str) -> None:
    use_core(new_app(core))
    sessions = [
        await st.create_new_session_without_request_response("public", RecipeUserId(user), {}, {})
        for user in ("carol", "carol", "carol", "dave")
    ]
    handles = [s.get_handle() for s in sessions]
    assert sorted(await st.get_all_session_handles_for_user("carol")) == sorted(handles[:3])

    first = sessions[0].get_all_session_tokens_dangerously()
    assert await st.revoke_session(handles[0])
    assert not await st.revoke_session(handles[0])
    # A revoked session's access token still verifies locally until it expires...
    local = await st.get_session_without_request_response(
        first["accessToken"], first["antiCsrfToken"]
    )
    assert local is not None
    # ...but not with a database check (blacklisting).
    with pytest.raises(UnauthorisedError):
        await st.get_session_without_request_response(
            first["accessToken"], first["antiCsrfToken"], check_database=True
        )
    assert await st.revoke_multiple_sessions([handles[1], "unknown"]) == [handles[1]]
    assert await st.revoke_all_sessions_for_user("carol") == [handles[2]]
    assert await st.get_all_session_handles_for_user("carol") == []
    assert await st.get_all_session_handles_for_user("dave") == [handles[3]]
    with pytest.raises(UnauthorisedError):
        await st.refresh_session_without_request_response(
            refresh_token(first), False, first["antiCsrfToken"]
        )


@in_own_loop
async def test_blacklisting_setting_checks_the_database_on_every_verification(
    start_core: StartCore,
) -> None:
    url = start_core(access_token_blacklisting="true")
    use_core(new_app(url))
    created = await st.create_new_session_without_request_response(
        "public", RecipeUserId("erin"), {}, {}
    )
    tokens = created.get_all_session_tokens_dangerously()
    await st.revoke_session(created.get_handle())
    # The SDK verifies locally unless asked; asking the core always consults the database.
    with pytest.raises(UnauthorisedError):
        await st.get_session_without_request_response(
            tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
        )


@in_own_loop
async def test_tenants(core: str) -> None:
    connection_uri = new_app(core)
    use_core(connection_uri)
    answer = httpx.put(f"{connection_uri}/recipe/multitenancy/tenant/v2", json={"tenantId": "blue"})
    assert answer.json() == {"status": "OK", "createdNew": True}
    blue = await st.create_new_session_without_request_response("blue", RecipeUserId("fay"), {}, {})
    public = await st.create_new_session_without_request_response(
        "public", RecipeUserId("fay"), {}, {}
    )
    assert blue.get_tenant_id() == "blue"
    assert blue.get_handle().endswith("_blue")
    assert await st.get_all_session_handles_for_user("fay", tenant_id="blue") == [blue.get_handle()]
    revoked = await st.revoke_all_sessions_for_user("fay", tenant_id="public")
    assert revoked == [public.get_handle()]
    assert await st.get_all_session_handles_for_user("fay") == [blue.get_handle()]
    with pytest.raises(Exception, match="400"):
        await st.create_new_session_without_request_response("green", RecipeUserId("fay"), {}, {})


@in_own_loop
async def test_session_limits_as_the_sdk_sees_them(core: str) -> None:
    """The SDK knows no "limit reached" answer: a refused login raises its plain
    ``Exception`` for a core error, carrying the 409 and the core's text; an evicted
    session is simply gone."""
    use_core(new_app(core, max_sessions_per_user="1", session_limit_policy="deny"))
    await st.create_new_session_without_request_response("public", RecipeUserId("gus"), {}, {})
    with pytest.raises(Exception, match="with status code: 409") as refused:
        await st.create_new_session_without_request_response("public", RecipeUserId("gus"), {}, {})
    assert "session limit reached" in str(refused.value)

    _reset()
    use_core(new_app(core, max_sessions_per_user="1"))
    first = await st.create_new_session_without_request_response(
        "public", RecipeUserId("gus"), {}, {}
    )
    second = await st.create_new_session_without_request_response(
        "public", RecipeUserId("gus"), {}, {}
    )
    assert await st.get_all_session_handles_for_user("gus") == [second.get_handle()]
    tokens = first.get_all_session_tokens_dangerously()
    with pytest.raises(UnauthorisedError):
        await st.refresh_session_without_request_response(
            refresh_token(tokens), False, tokens["antiCsrfToken"]
        )


@in_own_loop
async def test_static_signing_key(core: str) -> None:
    use_core(new_app(core), use_dynamic_access_token_signing_key=False)
    created = await st.create_new_session_without_request_response(
        "public", RecipeUserId("gus"), {}, {}
    )
    tokens = created.get_all_session_tokens_dangerously()
    assert kid_of(tokens["accessToken"]).startswith("s-")
    refreshed = await st.refresh_session_without_request_response(
        refresh_token(tokens), False, tokens["antiCsrfToken"]
    )
    assert kid_of(refreshed.get_access_token()).startswith("s-")


@in_own_loop
async def test_signing_keys_rotate_and_old_tokens_still_verify(core: str) -> None:
    # 0.0004 h is 1.44 s: a new key every 1.44 s, published 0.29 s before it signs.
    use_core(new_app(core, access_token_dynamic_signing_key_update_interval="0.0004"))
    first = await st.create_new_session_without_request_response(
        "public", RecipeUserId("hal"), {}, {}
    )
    await asyncio.sleep(2.0)
    second = await st.create_new_session_without_request_response(
        "public", RecipeUserId("hal"), {}, {}
    )
    assert kid_of(first.get_access_token()) != kid_of(second.get_access_token())
    for s in (first, second):
        tokens = s.get_all_session_tokens_dangerously()
        ok = await st.get_session_without_request_response(
            tokens["accessToken"], tokens["antiCsrfToken"]
        )
        assert ok is not None


@in_own_loop
async def test_expired_access_token_asks_for_a_refresh(core: str) -> None:
    use_core(new_app(core, access_token_validity="1"))
    created = await st.create_new_session_without_request_response(
        "public", RecipeUserId("ivy"), {}, {}
    )
    tokens = created.get_all_session_tokens_dangerously()
    await asyncio.sleep(2.1)
    with pytest.raises(TryRefreshTokenError):
        await st.get_session_without_request_response(
            tokens["accessToken"], tokens["antiCsrfToken"]
        )
    refreshed = await st.refresh_session_without_request_response(
        refresh_token(tokens), False, tokens["antiCsrfToken"]
    )
    assert refreshed.get_handle() == created.get_handle()


@in_own_loop
async def test_two_processes_over_one_postgresql_behave_as_one(
    start_core: StartCore, postgres_url: str
) -> None:
    import uuid

    prefix = f"c{uuid.uuid4().hex[:8]}_"
    one = start_core(database_url=postgres_url, table_name_prefix=prefix)
    two = start_core(database_url=postgres_url, table_name_prefix=prefix)
    app_uri = new_app(one)
    app_path = app_uri.removeprefix(one)
    try:
        use_core(app_uri)
        created = await st.create_new_session_without_request_response(
            "public", RecipeUserId("jay"), {}, {}
        )
        tokens = created.get_all_session_tokens_dangerously()
        _reset()
        use_core(two + app_path)  # the app made through one is known to two
        ok = await st.get_session_without_request_response(
            tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
        )
        assert ok is not None
        assert await st.revoke_session(created.get_handle())
        _reset()
        use_core(app_uri)
        with pytest.raises(UnauthorisedError):
            await st.get_session_without_request_response(
                tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
            )
    finally:
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as connection:
            for table in (
                "sessions",
                "signing_keys",
                "secrets",
                "schema",
                "tenants",
                "revocations",
            ):
                connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
