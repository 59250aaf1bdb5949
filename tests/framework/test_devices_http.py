""" "Your devices" over real HTTP in each framework: a route lists the user's sessions
with their devices and last activity (this one marked), and logs one device, or all the
others, out."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .._support.agents import CHROME_LINUX as CHROME
from .._support.agents import FIREFOX_WINDOWS as FIREFOX
from .._support.agents import SAFARI_IPHONE as IPHONE
from .._support.framework_apps import Served
from .._support.wire import Browserish, set_cookies

Serve = Callable[..., Served]


def login(client: httpx.Client, agent: str, user_id: str = "user-1") -> Browserish:
    """A device: give each its own client (a login over another device's cookies would
    end that device's session, as a login on one browser does)."""
    browser = Browserish(client)
    browser.absorb(
        client.post(
            "/login",
            json={"userId": user_id},
            headers={"st-auth-mode": "cookie", "user-agent": agent},
        )
    )
    return browser


def devices(browser: Browserish, agent: str, **query: str) -> dict[str, Any]:
    answer = browser.client.get(
        "/devices", params=query, headers=browser.headers(**{"user-agent": agent})
    )
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def log_out(browser: Browserish, handle: str) -> httpx.Response:
    return browser.absorb(
        browser.client.post(
            "/devices/logout", json={"handle": handle}, headers=browser.headers(rid="session")
        )
    )


def _check_listing_and_logout(served: Served) -> None:
    with served.client() as one, served.client() as two, served.client() as three:
        laptop = login(one, FIREFOX)
        served.clock.advance(5)
        phone = login(two, IPHONE)
        someone_else = login(three, CHROME, "user-2")

        page = devices(laptop, FIREFOX)
        assert page["next_cursor"] is None
        assert [(i["device"]["label"], i["current"]) for i in page["items"]] == [
            ("Mobile Safari 17 on iOS (iPhone)", False),
            ("Firefox 128 on Windows", True),
        ]
        phone_item, laptop_item = page["items"]
        assert laptop_item["ip"] == "127.0.0.1"
        assert laptop_item["device"]["device_class"] == "desktop"

        # The laptop is used again later, by another browser of the same login: the
        # activity (time and agent) is recorded off the request, once per interval.
        served.clock.advance(120)
        devices(laptop, CHROME)
        assert served.tessera.flush_activity()
        first = devices(laptop, CHROME)["items"][0]
        assert first["session_handle"] == laptop_item["session_handle"]
        assert (first["last_active"], first["last_user_agent"]) == (served.clock(), CHROME)
        assert first["user_agent"] == FIREFOX
        assert first["device"]["label"] == "Chrome 126 on Linux"

        # Another user's handle is refused; the phone's ends, and the laptop keeps its
        # tokens.
        theirs = devices(someone_else, CHROME)["items"][0]["session_handle"]
        assert log_out(laptop, theirs).json() == {"revoked": False}
        answer = log_out(laptop, phone_item["session_handle"])
        assert answer.json() == {"revoked": True}
        assert not set_cookies(answer)
        assert phone.do_refresh(rid="session").status_code == 401
        assert [i["current"] for i in devices(laptop, FIREFOX)["items"]] == [True]
        assert len(devices(someone_else, CHROME)["items"]) == 1


def test_your_devices(serve: Serve) -> None:
    _check_listing_and_logout(serve(engine_settings={"activity_write_interval": 60}))


@pytest.mark.parametrize("framework", ["starlette"])
def test_your_devices_in_starlette(serve: Serve, framework: str) -> None:
    _check_listing_and_logout(serve(engine_settings={"activity_write_interval": 60}))


def test_logging_out_this_device_clears_its_tokens_and_pages_follow_on(serve: Serve) -> None:
    served = serve()
    with contextlib.ExitStack() as stack:
        browsers = []
        for _ in range(5):
            browsers.append(login(stack.enter_context(served.client()), FIREFOX))
            served.clock.advance(1)
        first = devices(browsers[0], FIREFOX, limit="2")
        second = devices(browsers[0], FIREFOX, limit="2", cursor=first["next_cursor"])
        third = devices(browsers[0], FIREFOX, limit="2", cursor=second["next_cursor"])
        handles = [i["session_handle"] for p in (first, second, third) for i in p["items"]]
        assert len(set(handles)) == 5
        assert third["next_cursor"] is None
        tampered = browsers[0].client.get(
            "/devices",
            params={"cursor": first["next_cursor"][:-2] + "AA"},
            headers=browsers[0].headers(),
        )
        assert tampered.status_code == 400  # the route turns the ValueError into a 400
        own = handles[-1]
        answer = log_out(browsers[0], own)
        assert answer.json() == {"revoked": True}
        assert set_cookies(answer)["sAccessToken"]["value"] == ""
        assert browsers[0].do_refresh(rid="session").status_code == 401


@pytest.mark.parametrize("framework", ["django"])
def test_django_async_view_lists_devices(serve: Serve, framework: str) -> None:
    served = serve()
    with served.client() as client:
        laptop = login(client, FIREFOX)
        answer = laptop.call("GET", "/async/devices")
        assert answer.status_code == 200
        assert [i["device"]["label"] for i in answer.json()["items"]] == ["Firefox 128 on Windows"]
