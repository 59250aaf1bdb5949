"""The browser conformance suite's fixtures: Debian's Chromium driven by Playwright, the
official ``supertokens-web-js`` bundles from npm, a static page server and tessera
backends (FastAPI on uvicorn, Flask on werkzeug) on loopback.

Without chromium, npm or Playwright the suite skips with the reason; under CI
(``CI=true``) that is a failure. ``scripts/ensure-browser`` installs what is missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tessera import Tessera

from .._support.browser import Backend
from .._support.framework_apps import FACTORIES
from .._support.servers import Swappable, start_asgi, start_wsgi

HERE = Path(__file__).parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUNDLES = ("website", "supertokens", "session")


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the browser suite: {why} (run scripts/ensure-browser)")
    pytest.skip(f"browser suite skipped: {why} (run scripts/ensure-browser)")


def _bundle_dir() -> Path:
    bundle = HERE / "node_modules" / "supertokens-web-js" / "bundle"
    if not bundle.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable(
                "npm is not installed, so the supertokens-web-js bundles cannot be fetched"
            )
        assert npm is not None
        subprocess.run(  # noqa: S603 - a fixed command line
            [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=HERE,
            check=False,
            capture_output=True,
            timeout=300,
        )
    if not bundle.is_dir():
        _unavailable("npm install of supertokens-web-js failed")
    return bundle


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    bundles: ClassVar[dict[str, Path]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0].split("#")[0]
        if path in ("/", "/index.html"):
            self._send(HERE / "index.html", "text/html")
        elif path.startswith("/bundle/") and path[8:-3] in self.bundles:
            self._send(self.bundles[path[8:-3]], "application/javascript")
        else:
            self.send_error(404)

    def _send(self, file: Path, kind: str) -> None:
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    """A static server for index.html and the SDK bundles (served under stable names)."""
    bundle = _bundle_dir()
    found = {name: sorted(bundle.glob(f"{name}.*.js")) for name in BUNDLES}
    missing = [name for name, files in found.items() if not files]
    if missing:
        _unavailable(f"bundles missing from supertokens-web-js: {missing}")
    handler = functools.partial(_PageHandler)
    _PageHandler.bundles = {name: files[-1] for name, files in found.items()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


# Module scope: Playwright's sync API keeps an event loop running while it is open, which
# would break asyncio tests that run after this suite.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright (Python) is not installed")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *LAUNCH_ARGS,
                "--host-resolver-rules=MAP localhost.org 127.0.0.1, MAP *.localhost.org 127.0.0.1",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def api_servers() -> Iterator[dict[str, tuple[Swappable, int]]]:
    asgi, wsgi = Swappable(), Swappable()
    asgi_port, stop_asgi = start_asgi(asgi.asgi)
    wsgi_port, stop_wsgi = start_wsgi(wsgi.wsgi)
    yield {"fastapi": (asgi, asgi_port), "flask": (wsgi, wsgi_port)}
    stop_asgi()
    stop_wsgi()


@pytest.fixture(params=["fastapi", "flask"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(
    backend_kind: str,
    api_servers: dict[str, tuple[Swappable, int]],
    page_origin: str,
    tmp_path: Path,
) -> Iterator[Callable[..., Backend]]:
    """``backend(engine_settings, **framework_settings)``: a fresh tessera app (real
    clock, 2-second access tokens) behind the real server, with CORS for the page."""
    made: list[Tessera] = []

    def make(
        engine_settings: dict[str, Any] | None = None, host: str = "localhost", **settings: Any
    ) -> Backend:
        engine_settings = {
            "expired_session_purge_interval": 0,
            "access_token_validity": 2,
            **(engine_settings or {}),
        }
        tessera = Tessera(f"sqlite:///{tmp_path}/b{len(made)}.db", **engine_settings)
        made.append(tessera)
        holder, port = api_servers[backend_kind]
        served = Backend(backend_kind, f"http://{host}:{port}", tessera)
        settings.setdefault("cors_origin", page_origin.replace("localhost", host))

        def reconfigure(**changes: Any) -> None:
            holder.app = FACTORIES[backend_kind](tessera, served.log, **{**settings, **changes})

        served.reconfigure = reconfigure
        reconfigure()
        return served

    yield make
    for tessera in made:
        tessera.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    yield ctx
    ctx.close()
