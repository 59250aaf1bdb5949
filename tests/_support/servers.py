"""Real HTTP servers on loopback whose app can be swapped between tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class Swappable:
    """Holds the app a long-running server currently serves."""

    def __init__(self) -> None:
        self.app: Any = None

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def wsgi(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


def free_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def start_asgi(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[int, Callable[[], None]]:
    import uvicorn

    sock = free_socket(host, port)
    config = uvicorn.Config(
        app, interface="asgi3", lifespan="off", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()

    return sock.getsockname()[1], stop


def start_wsgi(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[int, Callable[[], None]]:
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()

    return server.server_port, stop
