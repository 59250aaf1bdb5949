"""One HTTP exchange as the doctor saw it: the request's method and URL, the answer's
status, headers and body, and when (by this machine's clock) it was sent and answered.

The rules read these plain records; only ``probe`` makes them from real HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Answer", "ProbeError", "Request", "Sender"]


@dataclass(frozen=True)
class Answer:
    """An HTTP answer. Header names are lower case; a name may repeat (``set-cookie``)."""

    method: str
    url: str
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    #: Seconds since the epoch, this machine's clock, around the exchange.
    sent_at: float = 0.0
    received_at: float = 0.0
    #: What the doctor sent, for explanations (lower-case names).
    request_headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    def listed(self, name: str) -> list[str]:
        """A comma-separated header (all its copies) as lower-case items."""
        items: list[str] = []
        for value in self.header_values(name):
            items.extend(item.strip().lower() for item in value.split(",") if item.strip())
        return items


@dataclass(frozen=True)
class Request:
    """A request the doctor wants made (header names lower case)."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


class ProbeError(Exception):
    """The request got no HTTP answer (refused, timed out, TLS failed)."""


#: Makes one request and records the answer; raises ``ProbeError`` without one.
Sender = Callable[[Request], Answer]
