"""The console's pages keep whatever users control (user ids, user agents, addresses,
payloads, session data, the operator's name, the search itself) as text: nothing a
client sends can become markup, a script or an attribute."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tessera import Tessera
from tessera.admin._http import ConsoleRequest
from tessera.admin.auth import LoginLimiter
from tessera.admin.console import Access, Console
from tessera.admin.operations import SessionAdmin
from tessera.admin.pages import Html, html

KEY = "pages-test-key-0123456789"
HOSTILE_USER = '<script>alert("user")</script>'
HOSTILE_AGENT = '"><img src=x onerror=alert(1)>'
HOSTILE_IP = "1.2.3.4'><iframe src=javascript:alert(4)>"
PAYLOAD = {"x": "</pre><script>alert(2)</script>", "<b>": "'\"&"}
DATA = {"note": "<svg onload=alert(3)>"}
#: The only elements the console draws.
ELEMENTS = {
    "html", "head", "meta", "title", "link", "body", "header", "a", "nav", "form",
    "input", "span", "button", "main", "h1", "h2", "label", "table", "thead", "tbody",
    "tr", "th", "td", "p", "dl", "dt", "dd", "pre", "strong", "code",
}  # fmt: skip


class Markup(HTMLParser):
    """Every element and attribute on a page, and its text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[str] = set()
        self.attributes: set[str] = set()
        self.urls: list[str] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name in ("href", "action", "src"):
                self.urls.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _inert(page: str) -> Markup:
    markup = Markup(page)
    assert markup.elements <= ELEMENTS, markup.elements - ELEMENTS
    assert not {a for a in markup.attributes if a.startswith("on")}
    assert all(u.startswith("/console") for u in markup.urls), markup.urls
    return markup


@pytest.fixture
def console(tmp_path: Path) -> Any:
    with Tessera(f"sqlite:///{tmp_path}/s.db", expired_session_purge_interval=0) as app:
        session = app.syncio.create_new_session(
            HOSTILE_USER, PAYLOAD, DATA, ip=HOSTILE_IP, user_agent=HOSTILE_AGENT
        )
        yield Console(SessionAdmin(app), Access((KEY,)), LoginLimiter()), session.get_handle()


def _get(console: Console, path: str, **query: str) -> str:
    headers = {"api-key": KEY, "tessera-operator": "<b>mallory</b>", "host": "localhost"}
    request = ConsoleRequest("GET", path, "/console", query, {}, headers)
    response = console.handle(request)
    assert response.status == 200, response.body
    return response.body.decode()


def test_a_hostile_session_is_text_on_every_page(console: Any) -> None:
    admin, handle = console
    pages = [
        _get(admin, "/sessions"),
        _get(admin, "/sessions", user=HOSTILE_USER, agent=HOSTILE_AGENT, ip=HOSTILE_IP),
        _get(admin, "/session", handle=handle),
        _get(admin, "/preview", user=HOSTILE_USER, agent=HOSTILE_AGENT),
        _get(admin, "/keys"),
    ]
    for page in pages:
        _inert(page)
    listing = "".join(_inert(pages[1]).text)
    assert HOSTILE_USER in listing
    assert HOSTILE_AGENT in listing
    detail = "".join(_inert(pages[2]).text)
    for value in (HOSTILE_USER, HOSTILE_AGENT, HOSTILE_IP, PAYLOAD["x"], DATA["note"]):
        assert value in detail
    assert "Signed in as <b>mallory</b>" in detail  # the operator's name, as text
    assert "<script>" not in pages[2]
    assert "&lt;script&gt;" in pages[2]


def test_values_are_escaped_unless_already_markup() -> None:
    assert html("<p>{v}</p>", v="<i>&\"'</i>") == "<p>&lt;i&gt;&amp;&quot;&#x27;&lt;/i&gt;</p>"
    assert html("<p>{v}</p>", v=Html("<i>ok</i>")) == "<p><i>ok</i></p>"
    # Braces in a value are text: the template is filled once.
    assert html("<p>{v}</p>", v="{v}{0}") == "<p>{v}{0}</p>"
