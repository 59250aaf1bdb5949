"""The "your devices" example in Debian's Chromium: two browsers of one user, each with
its own user agent, see each other on the page, and "log out all other devices" on one
logs the other out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._support.agents import FIREFOX_WINDOWS as FIREFOX
from .._support.agents import SAFARI_IPHONE as IPHONE
from .._support.examples import start_example


def test_log_out_other_devices_from_the_page(browser: Any, tmp_path: Path) -> None:
    with start_example("devices_app", tmp_path) as urls:
        (url,) = urls.values()
        laptop = browser.new_context(user_agent=FIREFOX)
        phone = browser.new_context(user_agent=IPHONE)
        try:
            pages = []
            for context in (laptop, phone):
                page = context.new_page()
                page.goto(url + "/")
                page.fill("input[name=user]", "frank")
                page.click("button")
                page.wait_for_url("**/devices")
                pages.append(page)
            on_laptop, on_phone = pages
            on_laptop.reload()
            assert on_laptop.locator("tr.current td.device").inner_text() == (
                "Firefox 128 on Windows (this device)"
            )
            assert on_laptop.locator("tr.other td.device").inner_text() == (
                "Mobile Safari 17 on iOS (iPhone)"
            )
            assert on_laptop.locator("tr.other td.ip").inner_text() == "127.0.0.1"

            on_laptop.click("#logout-others")
            on_laptop.wait_for_load_state()
            assert on_laptop.locator("tbody tr").count() == 1
            on_phone.reload()
            assert on_phone.locator("input[name=user]").is_visible()  # logged out
        finally:
            laptop.close()
            phone.close()
