"""A TCP proxy that puts network faults between tessera and a database server.

It listens on 127.0.0.1 on a free port and forwards every connection to the server.
On demand it delays traffic, drops it (the connection stays open but nothing arrives:
a partition, a hung server), drops only the server's answers (the request is executed
but its answer is lost), resets open connections, and refuses new ones. It runs an
asyncio loop on a thread of its own, so tests drive it from plain synchronous code.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = ["FaultProxy"]

T = TypeVar("T")
Mode = Literal["pass", "blackhole", "lose_answers", "refuse"]


class FaultProxy:
    """``FaultProxy(host, port)``; ``url_for(database_url)`` points a URL at it."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self.mode: Mode = "pass"
        #: Seconds added to every chunk of data, both ways.
        self.delay = 0.0
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    # -- control, from the test's thread ------------------------------------------------

    def url_for(self, url: str) -> str:
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def pass_traffic(self) -> None:
        self.mode, self.delay = "pass", 0.0

    def blackhole(self) -> None:
        """Accept connections and keep them open, but deliver no byte either way."""
        self.mode = "blackhole"

    def lose_answers(self) -> None:
        """Deliver requests to the server, drop everything it sends back."""
        self.mode = "lose_answers"

    def refuse(self) -> None:
        """Reset every open connection and every new one (a server that is down)."""
        self.mode = "refuse"
        self.cut()

    def cut(self) -> None:
        """Reset every connection open now; new ones are served as the mode says."""
        self._call(self._cut_all())

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    # -- the proxy, on its own loop -----------------------------------------------------

    async def _accept(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        handler.add_done_callback(self._handlers.discard)
        if self.mode == "refuse":
            _reset(client)
            return
        try:
            server_in, server = await asyncio.open_connection(*self._target)
        except OSError:
            _reset(client)
            return
        self._writers.update((client, server))
        try:
            await asyncio.gather(
                self._pump(client_in, server, answers=False),
                self._pump(server_in, client, answers=True),
            )
        finally:
            for writer in (client, server):
                self._writers.discard(writer)
                writer.close()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, answers: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                sink.write(data)
                await sink.drain()

        sender = asyncio.create_task(deliver())
        try:
            while data := await source.read(65536):
                if self.mode == "blackhole" or (answers and self.mode == "lose_answers"):
                    continue
                queue.put_nowait((loop.time() + self.delay, data))
        except OSError:
            pass
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(OSError):
                await sender
            # Either side gone: end the whole connection, as a dying link would.
            if not sink.is_closing():
                sink.close()

    async def _cut_all(self) -> None:
        for writer in list(self._writers):
            _reset(writer)

    async def _shutdown(self) -> None:
        self._server.close()
        await self._cut_all()
        await self._server.wait_closed()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)


def _reset(writer: asyncio.StreamWriter) -> None:
    # SO_LINGER 0: close with a TCP reset, as a crashed host or a firewall does.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
