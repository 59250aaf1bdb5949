"""The admin console: server-rendered pages over ``SessionAdmin``, with no framework.

``Console.handle`` takes a ``ConsoleRequest`` (already read from the server: the path
below the console's own, the query, the form, the headers) and returns a
``ConsoleResponse``. The core serves it at ``/admin``; ``tessera.admin.asgi_app`` and
``wsgi_app`` mount it in an application. Pages are in ``pages.py``; who may see them,
in ``auth.py``.

Opening it: a browser logs in with an API key that opens the app (the form posts it;
a key in a URL is refused), a script sends the key in the ``api-key`` header. Without
keys the console is refused, unless it was opened for local use on purpose; then it
answers only for local host names (a web page that rebinds its own name to this
machine is refused) and still demands a CSRF token on every form.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..error_answers import cdi_answer
from ..errors import (
    ApiKeyError,
    BadRequestError,
    ForbiddenError,
    MethodNotAllowedError,
    RequestError,
    StorageError,
    TooManyRequestsError,
)
from ..storage.base import SessionMatch
from . import auth, pages
from ._http import (
    SECURITY_HEADERS,
    ConsoleRequest,
    ConsoleResponse,
    cookie,
    host_of,
    is_local_host,
    presented_key,
    redirect,
    refuse_keys_in_url,
)
from .operations import Operator, SessionAdmin, session_match

__all__ = ["CONSOLE_PATHS", "Access", "Console"]

error_log = logging.getLogger("tessera.admin")
_FILTER_FIELDS = ("user", "tenant", "ip", "agent")
_NO_KEYS = (
    "The admin console needs API keys (api_keys), or to be opened without one for local "
    "use on purpose (admin_console_without_api_key: true)"
)


@dataclass(frozen=True)
class Access:
    """Who may open an app's console: the API keys that open the app, or, with
    ``local``, anyone who reaches it without a key (only when there are no keys)."""

    keys: tuple[str, ...]
    local: bool = False
    #: With ``local``, the host names it answers besides ``localhost`` and IP
    #: addresses; ``None`` when the server checks the Host header itself (the core).
    allowed_hosts: frozenset[str] | None = frozenset()

    @property
    def open_without_key(self) -> bool:
        return self.local and not self.keys


@dataclass(frozen=True)
class _Caller:
    operator: Operator
    #: The cookie's login, when the caller came with one (not with the api-key header).
    login: auth.Login | None


class Console:
    """One app's console. Cheap to make: the core makes one per request."""

    def __init__(
        self,
        admin: SessionAdmin,
        access: Access,
        limiter: auth.LoginLimiter,
        *,
        exists: bool = True,
    ) -> None:
        """``exists=False``: the console of an app that does not exist, answered like
        any other to a caller without a key that opens it (so such a caller cannot learn
        which apps exist) and "not found" to one with a key; ``admin`` then is another
        app's, for its secret and its audit log, and no login is ever made."""
        self.admin = admin
        self.access = access
        self.limiter = limiter
        self.exists = exists

    def handle(self, request: ConsoleRequest) -> ConsoleResponse:
        try:
            response = self._route(request)
        except Exception as exc:
            # Answered as the core answers it (the table in tessera.error_answers), as a page.
            answer = cdi_answer(type(exc), refusals_only=True)
            if not isinstance(exc, RequestError | StorageError):
                error_log.exception("the admin console failed on %s", request.method)
            own = exc.message if isinstance(exc, RequestError) else ""
            text = answer.text if answer.text is not None else own
            body = pages.error_page(request.mount, answer.status, text or "Refused")
            headers = list(exc.headers) if isinstance(exc, RequestError) else []
            response = ConsoleResponse(answer.status, body.encode(), headers=headers)
        response.headers.extend(SECURITY_HEADERS)
        return response

    # -- routing ---------------------------------------------------------------------------

    def _route(self, request: ConsoleRequest) -> ConsoleResponse:
        path = request.path.rstrip("/")
        if path == "/style.css":
            _only(request, "GET")
            return ConsoleResponse(200, pages.STYLE, "text/css; charset=utf-8")
        refuse_keys_in_url(request.query)
        if not self.access.keys and not self.access.local:
            raise ForbiddenError(_NO_KEYS)
        self._check_browser(request)
        caller = self._caller(request)
        if caller is not None and not self.exists:
            return self._error(request, 404, "No such app")
        if path == "/login":
            return self._login(request, caller)
        if path == "":
            _only(request, "GET")
            return redirect(request.mount + "/sessions")
        handler = _PAGES.get(path)
        if handler is None:
            return self._error(request, 404, "No such page")
        method, page = handler
        _only(request, method)
        if caller is None:
            if request.method == "GET":
                return redirect(request.mount + "/login")
            return self._error(request, 401, "Log in first")
        if request.method == "POST" and caller.login is not None:
            binding = "s:" + caller.login.sid
            if not auth.csrf_ok(self.admin.secret(), binding, request.form.get("csrf")):
                raise ForbiddenError(
                    "This form did not come from this console, or has expired: reload the page"
                )
        response = page(self, request, caller)
        if caller.login is not None:
            again = auth.renewed(caller.login, self.admin.now())
            if again is not None:
                response.headers.append(self._logincookie(request, again))
        return response

    def _check_browser(self, request: ConsoleRequest) -> None:
        """Refuse what another site may make a browser send. Forms also carry CSRF
        tokens and the cookies are SameSite=Strict: this is the third fence."""
        headers = request.headers
        if request.method != "GET":
            origin = headers.get("origin")
            if origin is not None and (
                origin == "null" or urlsplit(origin).netloc.lower() != host_of(request)
            ):
                raise ForbiddenError("Forms from other sites are refused")
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                raise ForbiddenError("Forms from other sites are refused")
        hosts = self.access.allowed_hosts
        if (
            self.access.open_without_key
            and hosts is not None
            and not is_local_host(host_of(request), hosts)
        ):
            raise ForbiddenError(
                "Unknown host name: a console without an API key answers local names only"
            )

    def _caller(self, request: ConsoleRequest) -> _Caller | None:
        presented = presented_key(request.headers)
        if presented is not None:
            key = auth.matching_key(presented, self.access.keys)
            if key is None:
                raise ApiKeyError  # the core's own refusal for a wrong key
            name = auth.operator_name(request.headers.get("tessera-operator"))
            return _Caller(Operator(name, auth.key_id(key), request.client_ip), None)
        value = request.cookie(auth.COOKIE)
        if not value:
            return None
        login = auth.read_login(self.admin.secret(), value, self.admin.app_id, self.admin.now())
        if login is None or not self._key_still_valid(login.key_id):
            return None
        return _Caller(Operator(login.name, login.key_id, request.client_ip), login)

    def _key_still_valid(self, key_id: str) -> bool:
        if not self.exists:
            return False
        if key_id == auth.LOCAL:
            return self.access.open_without_key
        return any(auth.key_id(k) == key_id for k in self.access.keys)

    # -- logging in and out ------------------------------------------------------------------

    def _login(self, request: ConsoleRequest, caller: _Caller | None) -> ConsoleResponse:
        _only(request, "GET", "POST")
        if request.method == "GET":
            if caller is not None:
                return redirect(request.mount + "/sessions")
            return self._login_form(request)
        ip = request.client_ip or "unknown"
        now = self.admin.now()
        name = auth.operator_name(request.form.get("name"))
        tried = Operator(name, None, request.client_ip)
        wait = self.limiter.retry_after(ip, now)
        if wait:
            self.admin.audit("login_failed", tried, reason="rate_limited")
            raise TooManyRequestsError(
                f"Too many failed logins from your address: try again in {wait} seconds",
                retry_after=wait,
            )
        nonce = request.cookie(auth.LOGIN_COOKIE)
        if not auth.csrf_ok(self.admin.secret(), f"l:{nonce}", request.form.get("csrf")):
            raise ForbiddenError("This form did not come from this console: reload the page")
        key = None
        if not self.access.open_without_key:
            key = auth.matching_key(request.form.get("key", ""), self.access.keys)
            if key is None:
                self.limiter.failed(ip, now)
                self.admin.audit("login_failed", tried, reason="wrong_key")
                response = self._login_form(request, "That key does not open this console.")
                response.status = 401
                return response
        self.limiter.succeeded(ip)
        if not self.exists:
            return self._error(request, 404, "No such app")
        login = auth.new_login(self.admin.app_id, name, key, now)
        self.admin.audit("login", Operator(name, login.key_id, request.client_ip))
        response = redirect(request.mount + "/sessions")
        response.headers.append(self._logincookie(request, login))
        response.headers.append(cookie(request, auth.LOGIN_COOKIE, "", 0))
        return response

    def _login_form(self, request: ConsoleRequest, error: str | None = None) -> ConsoleResponse:
        nonce = request.cookie(auth.LOGIN_COOKIE)
        headers = []
        if not nonce or len(nonce) > 64:
            nonce = secrets.token_urlsafe(16)
            headers.append(cookie(request, auth.LOGIN_COOKIE, nonce, 3600))
        csrf = auth.csrf_token(self.admin.secret(), f"l:{nonce}")
        body = pages.login_page(
            request.mount, csrf, local=self.access.open_without_key, error=error
        )
        return ConsoleResponse(200, body.encode(), headers=headers)

    def _logincookie(self, request: ConsoleRequest, login: auth.Login) -> tuple[str, str]:
        value = auth.sign_login(self.admin.secret(), login)
        lifetime = (login.issued_at + auth.LIFETIME_MS - self.admin.now()) // 1000
        return cookie(request, auth.COOKIE, value, max(1, lifetime))

    def _error(self, request: ConsoleRequest, status: int, text: str) -> ConsoleResponse:
        return ConsoleResponse(status, pages.error_page(request.mount, status, text).encode())


# -- the pages behind the login -------------------------------------------------------------

Page = Callable[[Console, ConsoleRequest, _Caller], ConsoleResponse]


def _csrf(console: Console, caller: _Caller) -> str:
    # A caller with the api-key header has no login: its forms need no token.
    binding = "s:" + caller.login.sid if caller.login else "k:" + str(caller.operator.key_id)
    return auth.csrf_token(console.admin.secret(), binding)


def _filter_values(source: Mapping[str, str]) -> dict[str, str]:
    return {k: source[k].strip() for k in _FILTER_FIELDS if source.get(k, "").strip()}


def _match(values: Mapping[str, str]) -> SessionMatch:
    return session_match(
        user_id=values.get("user"),
        tenant_id=values.get("tenant"),
        ip=values.get("ip"),
        user_agent=values.get("agent"),
    )


def _sessions(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    values = _filter_values(request.query)
    page = console.admin.search(_match(values), cursor=request.query.get("cursor") or None)
    ended = request.query.get("ended", "")
    notice = None
    if ended.isdigit() and len(ended) < 10:
        count = int(ended)
        notice = (
            "That session had already ended."
            if count == 0
            else f"Ended {count} session{'s' if count != 1 else ''}."
        )
    body = pages.search_page(
        request.mount, values, page, _csrf(console, caller), who=caller.operator.name, notice=notice
    )
    return ConsoleResponse(200, body.encode())


def _session(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    record = console.admin.session(request.query.get("handle", ""))
    if record is None:
        return console._error(request, 404, "That session has ended, or never existed")
    body = pages.session_page(
        request.mount, record, _csrf(console, caller), who=caller.operator.name
    )
    return ConsoleResponse(200, body.encode())


def _revoke(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    ended = console.admin.revoke_session(request.form.get("handle", ""), caller.operator)
    back = request.form.get("back_user") or None
    return redirect(pages.link(request.mount, "/sessions", user=back, ended=str(int(ended))))


def _preview(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    values = _filter_values(request.query)
    preview = console.admin.preview(_match(values))
    body = pages.preview_page(
        request.mount, values, preview, _csrf(console, caller), who=caller.operator.name
    )
    return ConsoleResponse(200, body.encode())


def _revoke_matching(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    values = _filter_values(request.form)
    count = request.form.get("count", "")
    if not count.isdigit() or len(count) > 12:
        raise BadRequestError("count must be the number the preview showed")
    outcome = console.admin.revoke_matching(
        _match(values), int(count), request.form.get("confirmation", ""), caller.operator
    )
    if outcome.ended is None:
        assert outcome.preview is not None
        body = pages.preview_page(
            request.mount,
            values,
            outcome.preview,
            _csrf(console, caller),
            who=caller.operator.name,
            changed_from=int(count),
        )
        return ConsoleResponse(409, body.encode())
    return redirect(pages.link(request.mount, "/sessions", **values, ended=str(len(outcome.ended))))


def _keys(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    body = pages.keys_page(
        request.mount,
        console.admin.key_schedule(),
        _csrf(console, caller),
        who=caller.operator.name,
    )
    return ConsoleResponse(200, body.encode())


def _logout(console: Console, request: ConsoleRequest, caller: _Caller) -> ConsoleResponse:
    console.admin.audit("logout", caller.operator)
    response = redirect(request.mount + "/login")
    response.headers.append(cookie(request, auth.COOKIE, "", 0))
    return response


_PAGES: dict[str, tuple[str, Page]] = {
    "/sessions": ("GET", _sessions),
    "/session": ("GET", _session),
    "/preview": ("GET", _preview),
    "/keys": ("GET", _keys),
    "/revoke": ("POST", _revoke),
    "/revoke-matching": ("POST", _revoke_matching),
    "/logout": ("POST", _logout),
}
#: The words the console uses right after its own path (the core routes on them).
CONSOLE_PATHS = frozenset({"login", "style.css", *(p[1:] for p in _PAGES)})


# -- small helpers ----------------------------------------------------------------------------


def _only(request: ConsoleRequest, *methods: str) -> None:
    if request.method not in methods:
        raise MethodNotAllowedError(list(methods))
