"""Reading an ASGI request body whole, within a size limit (the core and the admin
console mounted in an app)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .errors import BadRequestError, BodyTooLargeError

__all__ = ["read_body"]


async def read_body(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]], limit: int
) -> bytes:
    """The body, or ``BodyTooLargeError`` past ``limit`` bytes. A client gone (or cut off
    by a body timeout) before the end is a ``BadRequestError``: never act on half a body."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequestError("Request body incomplete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
