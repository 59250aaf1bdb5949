"""Real HTTP for the doctor, with ``httpx``: the only module here that touches the
network. Cookies are never kept between requests; the plan sends them itself, as the
browser would."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

import httpx

from .. import __version__
from .observed import Answer, ProbeError, Request

__all__ = ["HttpSender"]

# Enough of a body to explain an error; the rules never need more.
_BODY_KEPT = 4000


class HttpSender:
    """A ``Sender`` over one ``httpx.Client``: no redirects followed, no cookie jar."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        verify_tls: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            verify=verify_tls,
            follow_redirects=False,
            headers={"user-agent": f"tessera-doctor/{__version__}"},
        )
        self._clock = clock

    def __call__(self, request: Request) -> Answer:
        self._client.cookies.clear()
        sent_at = self._clock()
        try:
            response = self._client.request(
                request.method, request.url, headers=list(request.headers), content=request.body
            )
        except httpx.HTTPError as exc:
            raise ProbeError(str(exc) or type(exc).__name__) from exc
        received_at = self._clock()
        return Answer(
            method=request.method,
            url=request.url,
            status=response.status_code,
            headers=tuple((k.lower(), v) for k, v in response.headers.multi_items()),
            body=response.text[:_BODY_KEPT],
            sent_at=sent_at,
            received_at=received_at,
            request_headers=request.headers,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpSender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
