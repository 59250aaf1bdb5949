"""The admin console as an ASGI or a WSGI application, over an app's ``Tessera`` object.

    app.mount("/admin", tessera.admin.asgi_app(sessions, api_keys=[ADMIN_KEY]))  # Starlette
    app.wsgi_app = DispatcherMiddleware(                                          # Flask
        app.wsgi_app, {"/admin": tessera.admin.wsgi_app(sessions, api_keys=[ADMIN_KEY])}
    )

The console finds its own path in the server's ``root_path`` (ASGI) or ``SCRIPT_NAME``
(WSGI), as mounting sets them. Whether a request came over HTTPS (for the cookie's
``Secure``) and the client's address are the server's view: behind a proxy, have the
server read ``X-Forwarded-Proto`` and ``X-Forwarded-For`` from it (uvicorn's
``--proxy-headers``, werkzeug's ``ProxyFix``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from .._asgi_body import read_body
from ..errors import BadRequestError, BodyTooLargeError
from ._http import ConsoleRequest, ConsoleResponse, parse_form, parse_query
from .auth import LoginLimiter
from .console import Access, Console
from .operations import SessionAdmin

if TYPE_CHECKING:
    from .._tessera import Tessera

__all__ = ["asgi_app", "wsgi_app"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

#: The console's forms are small; anything larger is not one of them.
MAX_BODY = 64 * 1024


def _console(
    sessions: Tessera,
    api_keys: Sequence[str],
    allow_without_api_key: bool,
    allowed_hosts: Iterable[str],
) -> Console:
    if isinstance(api_keys, str):
        raise TypeError("api_keys takes a list of keys")
    keys = tuple(api_keys)
    if any(not isinstance(k, str) or len(k.strip()) < 20 for k in keys):
        raise ValueError("each admin API key needs at least 20 characters")
    if not keys and not allow_without_api_key:
        raise ValueError(
            "the admin console needs api_keys; allow_without_api_key=True opens it without "
            "one, for local development only"
        )
    hosts = frozenset(h.lower() for h in allowed_hosts)
    access = Access(keys, local=allow_without_api_key, allowed_hosts=hosts)
    return Console(SessionAdmin(sessions), access, LoginLimiter())


def asgi_app(
    sessions: Tessera,
    *,
    api_keys: Sequence[str] = (),
    allow_without_api_key: bool = False,
    allowed_hosts: Iterable[str] = (),
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The console of ``sessions``'s app as an ASGI application, opened by ``api_keys``
    (each at least 20 characters; log in with one, or send it in the ``api-key``
    header). ``allow_without_api_key`` opens it without a key, for local development:
    then it answers only ``localhost``, IP addresses and ``allowed_hosts``."""
    console = _console(sessions, api_keys, allow_without_api_key, allowed_hosts)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served alone, not mounted
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        try:
            request = await _asgi_request(scope, receive)
        except (BadRequestError, BodyTooLargeError) as exc:
            response = _unreadable(exc)
        else:
            response = await sessions.in_thread(console.handle, request)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers += [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(response.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    return app


async def _asgi_request(scope: Scope, receive: Receive) -> ConsoleRequest:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    body = b""
    if scope["method"] not in ("GET", "HEAD"):
        body = await read_body(receive, MAX_BODY)
    root = scope.get("root_path", "")
    path: str = scope["path"]
    # Starlette's Mount keeps the whole path and moves the prefix into root_path.
    if root and path.startswith(root):
        path = path[len(root) :]
    client = scope.get("client")
    return ConsoleRequest(
        method=scope["method"],
        path=path,
        mount=root,
        query=parse_query(scope.get("query_string", b"")),
        form=parse_form(body, headers.get("content-type")) if body else {},
        headers=headers,
        client_ip=str(client[0]) if client else None,
        https=scope.get("scheme") == "https",
    )


def wsgi_app(
    sessions: Tessera,
    *,
    api_keys: Sequence[str] = (),
    allow_without_api_key: bool = False,
    allowed_hosts: Iterable[str] = (),
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The console of ``sessions``'s app as a WSGI application; the same settings as
    ``asgi_app``."""
    console = _console(sessions, api_keys, allow_without_api_key, allowed_hosts)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = _wsgi_request(environ)
        except (BadRequestError, BodyTooLargeError) as exc:
            response = _unreadable(exc)
        else:
            response = console.handle(request)
        headers = [
            *response.headers,
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
        ]
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        return [response.body]

    return app


def _wsgi_request(environ: dict[str, Any]) -> ConsoleRequest:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    body = b""
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isdigit():
        raise BadRequestError("Bad content-length")
    if int(length) > MAX_BODY:
        raise BodyTooLargeError
    if int(length):
        body = environ["wsgi.input"].read(int(length))
    return ConsoleRequest(
        method=environ["REQUEST_METHOD"].upper(),
        path=environ.get("PATH_INFO", ""),
        mount=environ.get("SCRIPT_NAME", ""),
        query=parse_query(environ.get("QUERY_STRING", "").encode("latin-1")),
        form=parse_form(body, headers.get("content-type")) if body else {},
        headers=headers,
        client_ip=environ.get("REMOTE_ADDR"),
        https=environ.get("wsgi.url_scheme") == "https",
    )


def _unreadable(exc: BadRequestError | BodyTooLargeError) -> ConsoleResponse:
    """The answer to a request the console could not even read."""
    status = 400 if isinstance(exc, BadRequestError) else 413
    text = exc.message or "Request body too large"
    return ConsoleResponse(status, text.encode(), "text/plain; charset=utf-8")


_REASONS = {
    200: "OK",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
