"""The HTTP/1.1 connection under the core: uvicorn's httptools protocol with the limits
it lacks, so slow or idle clients cannot hold connections (and file descriptors) forever.

httptools (a C parser) rather than h11 because the server's own cost per request is
about a third with it: under a steady load that is the difference between a short
queue and a long tail.

Each connection has at most one deadline, chosen by what it waits for:

* the request's headers, from the moment the connection opens or the next request's
  first byte arrives (``request_header_timeout``): then it is closed;
* the request's body, once the headers are in (``request_body_timeout``): then it is
  answered 408 and closed, and the handler never sees half a body;
* between requests, uvicorn's own keep-alive timer (``keep_alive_timeout``).

A connection beyond ``max_connections`` (per worker process) is answered 503 and
closed. Each deadline counts from its start, however the client trickles its bytes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "LimitedHttpProtocol"]

#: How long a refused connection may go on sending before it is closed outright.
_LINGER_SECONDS = 2.0


def _answer(status: str, text: str) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(text)}\r\nconnection: close\r\n\r\n{text}"
    ).encode()


_TOO_MANY = _answer("503 Service Unavailable", "Too many connections")
_TOO_SLOW = _answer("408 Request Timeout", "Request body not received in time")


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float = 5
    body_timeout: float = 10
    max_connections: int = 1000


class LimitedHttpProtocol(HttpToolsProtocol):
    #: Set by the app factory in each worker process, before connections arrive.
    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    _deadline: asyncio.TimerHandle | None = None
    _waiting_for = ""
    _refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(_TOO_MANY)
        else:
            self._wait_for("headers")

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # answered already; what else arrives is dropped
        super().data_received(data)

    # The parser's callbacks say what the connection waits for next.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._wait_for("headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._wait_for("body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._wait_for("")  # answering

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle now: uvicorn's keep-alive timer closes the connection if nothing comes;
        # a request that starts arrives through on_message_begin.
        self._wait_for("")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    # -- the one deadline --------------------------------------------------------------

    def _wait_for(self, waiting_for: str) -> None:
        if self._refused or self.transport.is_closing():
            waiting_for = ""
        if waiting_for == self._waiting_for:
            return
        self._cancel()
        self._waiting_for = waiting_for
        if waiting_for:
            seconds = (
                self.limits.body_timeout if waiting_for == "body" else self.limits.header_timeout
            )
            self._deadline = self.loop.call_later(seconds, self._expired)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._waiting_for = ""

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self._waiting_for == "body" and cycle is not None and not cycle.response_started:
            # The handler waits for the rest of the body: it gets a disconnect instead,
            # and whatever it answers is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self._refuse(_TOO_SLOW)
        else:
            self.transport.close()

    def _refuse(self, answer: bytes) -> None:
        """Send ``answer`` and close. The close waits briefly for the client to stop
        sending: closing a socket with unread input resets it, and the reset can
        destroy the answer before the client reads it."""
        self._cancel()
        self._refused = True
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
