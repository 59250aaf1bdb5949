"""The admin console in Debian's Chromium (Playwright) against a real core: log in,
search by user, view a session, revoke it, revoke what a search matches after the
preview (its count checked against the database), the keys page; hostile user ids and
user agents stay text. ``TESSERA_SCREENSHOTS=docs/img`` keeps the screenshots
(``scripts/console-screenshots`` does that)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera.storage import SessionMatch
from tests._support.admin_core import KEY, AdminCore, admin_core

AGENTS = {
    "iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "bot": "BadBot/2.1 (+http://crawler.example)",
}


@pytest.fixture
def core(tmp_path: Path) -> Iterator[AdminCore]:
    with admin_core(tmp_path / "core") as running:
        yield running


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    """A page that fails the test on any dialog (an injected alert would open one)."""
    opened = context.new_page()
    opened.set_viewport_size({"width": 1280, "height": 800})
    opened.set_default_timeout(10_000)
    dialogs: list[str] = []

    def record(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", record)
    yield opened
    assert not dialogs, f"a script ran in the console: {dialogs}"


def _shoot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("TESSERA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _log_in(page: Any, core: AdminCore) -> None:
    page.goto(f"{core.url}/admin")
    assert page.url == f"{core.url}/admin/login"
    page.fill("input[name=key]", KEY)
    page.fill("input[name=name]", "alice")
    page.click("button:has-text('Log in')")
    assert page.url == f"{core.url}/admin/sessions"
    assert page.text_content(".who") == "Signed in as alice"


def _populate(core: AdminCore) -> dict[str, list[str]]:
    made: dict[str, list[str]] = {}
    people = [
        ("ann@example.com", "public", "iphone", "198.51.100.23"),
        ("ann@example.com", "public", "windows", "203.0.113.77"),
        ("ann@example.com", "acme", "mac", "203.0.113.78"),
        ("bob@example.com", "public", "android", "192.0.2.140"),
        ("carol@example.com", "acme", "windows", "198.51.100.9"),
    ]
    with core.app_object() as app:
        for user, tenant, agent, ip in people:
            session = app.syncio.create_new_session(
                user,
                {"plan": "pro", "roles": ["editor"]},
                {"cart": [1042, 77], "theme": "dark"},
                tenant_id=tenant,
                ip=ip,
                user_agent=AGENTS[agent],
            )
            made.setdefault(user, []).append(session.get_handle())
        for n in range(4):
            session = app.syncio.create_new_session(
                f"scraper-{n}", ip="192.0.2.66", user_agent=AGENTS["bot"]
            )
            made.setdefault("bots", []).append(session.get_handle())
    return made


def test_an_operators_tour(core: AdminCore, page: Any, tmp_path: Path) -> None:
    made = _populate(core)
    _log_in(page, core)
    assert page.locator("tr.session").count() == 9
    _shoot(page, "console-search.png", tmp_path)

    # A user's sessions: click their id.
    page.fill("input[name=user]", "ann@example.com")
    page.click("button:has-text('Search')")
    assert page.locator("h1").text_content() == "Sessions of ann@example.com"
    rows = page.locator("tr.session")
    assert rows.count() == 3
    assert {rows.nth(i).get_attribute("data-handle") for i in range(3)} == set(
        made["ann@example.com"]
    )

    # One session in full.
    iphone = made["ann@example.com"][0]
    page.click(f"tr[data-handle='{iphone}'] a:has-text('View')")
    facts = page.locator("dl.facts").text_content()
    assert "198.51.100.23" in facts
    assert "iPhone" in facts
    assert '"cart": [' in page.locator("pre").nth(1).text_content()
    _shoot(page, "console-session.png", tmp_path)
    page.click("button:has-text('Revoke this session')")
    assert page.text_content("#notice") == "Ended 1 session."
    assert page.locator("tr.session").count() == 2
    assert core.store.load_session(iphone) is None

    # Every session of a crawler: search by agent, preview, confirm.
    page.goto(f"{core.url}/admin/sessions")
    page.fill("input[name=agent]", "badbot")
    page.click("button:has-text('Search')")
    assert page.locator("tr.session").count() == 4
    page.click("a:has-text('Revoke every session matching this search')")
    shown = int(page.text_content("#count") or "-1")
    in_database = core.store.count_sessions(
        SessionMatch(user_agent="badbot"), int(time.time() * 1000)
    )
    assert shown == in_database == 4
    _shoot(page, "console-preview.png", tmp_path)
    page.click("button:has-text('End 4 sessions')")
    assert page.text_content("#notice") == "Ended 4 sessions."
    assert all(core.store.load_session(h) is None for h in made["bots"])
    assert core.store.count_sessions(SessionMatch(), int(time.time() * 1000)) == 4

    # The keys: which signs, when the next takes over.
    page.click("nav a:has-text('Signing keys')")
    assert "Next rotation due" in page.text_content("p.rotation")
    assert page.locator("table.keys td:has-text('signs new tokens')").count() == 1
    _shoot(page, "console-keys.png", tmp_path)

    page.click("button:has-text('Log out')")
    assert page.url == f"{core.url}/admin/login"
    page.goto(f"{core.url}/admin/sessions")
    assert page.url == f"{core.url}/admin/login"


def test_a_preview_that_grew_is_refused_in_the_browser(core: AdminCore, page: Any) -> None:
    _populate(core)
    _log_in(page, core)
    page.goto(f"{core.url}/admin/preview?ip=192.0.2.66")
    assert page.text_content("#count") == "4"
    with core.app_object() as app:  # another crawler session arrives meanwhile
        app.syncio.create_new_session("scraper-9", ip="192.0.2.66", user_agent=AGENTS["bot"])
    page.click("button:has-text('End 4 sessions')")
    assert "nothing was ended" in page.text_content("p.error")
    assert page.text_content("#count") == "5"
    now = int(time.time() * 1000)
    assert core.store.count_sessions(SessionMatch(ip="192.0.2.66"), now) == 5
    page.click("button:has-text('End 5 sessions')")
    assert page.text_content("#notice") == "Ended 5 sessions."


def test_hostile_user_ids_and_agents_stay_text(core: AdminCore, page: Any) -> None:
    user = "<img src=x onerror=alert('user')>"
    agent = "</td><script>alert('agent')</script><td>"
    with core.app_object() as app:
        handle = app.syncio.create_new_session(
            user, {"x": "<svg onload=alert('payload')>"}, ip="198.51.100.1", user_agent=agent
        ).get_handle()
    _log_in(page, core)
    for path in ("/admin/sessions", f"/admin/session?handle={handle}"):
        page.goto(core.url + path)
        assert page.locator("img, script, svg").count() == 0
        assert user in (page.text_content("main") or "")
        assert agent in (page.text_content("main") or "")
    page.goto(f"{core.url}/admin/sessions")
    page.fill("input[name=user]", user)
    page.click("button:has-text('Search')")
    assert page.locator("tr.session").count() == 1
    assert page.locator("h1").text_content() == f"Sessions of {user}"
