"""Who may use the admin console: API keys, the operator's login cookie, CSRF tokens and
the limit on failed logins.

An operator logs in by posting one of the API keys that open the app (never in a URL).
The answer is a cookie signed with the app's console secret (``SessionAdmin.secret``):
it names the app, a random login id, the name the operator gave and a fingerprint of
the key, and it expires after ``IDLE_MS`` without use and ``LIFETIME_MS`` after login.
It stops working at once when its key is removed from the settings, and a cookie made
by another database (another secret) never verifies.

Every form carries a CSRF token: an HMAC of the login id (or, on the login form, of a
random value in a cookie of its own) under the same secret, so another site can
neither read nor make one. The cookies are also ``SameSite=Strict``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..engine.values import is_clean_text

__all__ = [
    "COOKIE",
    "LOCAL",
    "LOGIN_COOKIE",
    "Login",
    "LoginLimiter",
    "csrf_ok",
    "csrf_token",
    "key_id",
    "matching_key",
    "new_login",
    "operator_name",
    "read_login",
    "renewed",
    "sign_login",
]

COOKIE = "tessera_admin"
#: The login form's own cookie: a random value its CSRF token is bound to.
LOGIN_COOKIE = "tessera_admin_login"
IDLE_MS = 30 * 60_000
LIFETIME_MS = 8 * 3600_000
#: A used cookie is renewed (its idle limit moved) at most this often.
RENEW_AFTER_MS = 60_000
#: The key id of a login to a console opened without API keys (local use).
LOCAL = "local"
MAX_NAME = 64


def key_id(key: str) -> str:
    """A fingerprint that names an API key in audit records (8 hex digits of a hash):
    enough to tell an operator's keys apart, never the key."""
    return hashlib.sha256(b"tessera-operator-key:" + key.encode()).hexdigest()[:8]


def matching_key(presented: str, keys: Iterable[str]) -> str | None:
    """The key ``presented`` equals, compared in constant time with every key."""
    given = presented.strip().encode("utf-8", "replace")
    found = None
    for key in keys:
        if hmac.compare_digest(given, key.encode()):
            found = key
    return found


def operator_name(value: str | None) -> str | None:
    """What an operator typed as their name, kept if it is short, clean text."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_NAME or not is_clean_text(value) or not value.isprintable():
        return None
    return value


@dataclass(frozen=True)
class Login:
    app_id: str
    #: Random, per login: CSRF tokens are bound to it.
    sid: str
    name: str | None
    key_id: str
    issued_at: int
    expires_at: int


def new_login(app_id: str, name: str | None, key: str | None, now: int) -> Login:
    return Login(
        app_id=app_id,
        sid=secrets.token_urlsafe(16),
        name=name,
        key_id=LOCAL if key is None else key_id(key),
        issued_at=now,
        expires_at=min(now + IDLE_MS, now + LIFETIME_MS),
    )


def sign_login(secret: bytes, login: Login) -> str:
    payload = json.dumps(
        [login.app_id, login.sid, login.name, login.key_id, login.issued_at, login.expires_at],
        separators=(",", ":"),
    ).encode()
    body = _b64(payload)
    return f"{body}.{_mac(secret, 'login', body)}"


def read_login(secret: bytes, value: str, app_id: str, now: int) -> Login | None:
    """The login a cookie carries, if its signature, app and time limits hold."""
    body, _, mac = value.partition(".")
    if not body or not _same(_mac(secret, "login", body), mac):
        return None
    try:
        fields: Any = json.loads(_unb64(body))
        login = Login(*fields)
    except (ValueError, TypeError, binascii.Error):
        return None
    if login.app_id != app_id or login.expires_at < now:
        return None
    if now - login.issued_at > LIFETIME_MS:
        return None
    return login


def renewed(login: Login, now: int) -> Login | None:
    """The login with its idle limit moved on, when due; ``None`` when not yet."""
    if login.expires_at - now > IDLE_MS - RENEW_AFTER_MS:
        return None
    return replace(login, expires_at=min(now + IDLE_MS, login.issued_at + LIFETIME_MS))


def csrf_token(secret: bytes, binding: str) -> str:
    """The token forms carry, bound to a login id (or the login form's cookie)."""
    return _mac(secret, "csrf", binding)


def csrf_ok(secret: bytes, binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return _same(csrf_token(secret, binding), token)


def _same(ours: str, given: str) -> bool:
    """Constant-time equality with a value we made; whatever a client sends is bytes."""
    return hmac.compare_digest(ours.encode(), given.encode("utf-8", "replace"))


def _mac(secret: bytes, purpose: str, text: str) -> str:
    digest = hmac.new(secret, f"{purpose}|{text}".encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LoginLimiter:
    """Failed logins by client address: after ``max_failures`` within ``window_ms``,
    that address is refused (even with the right key) until the oldest failure leaves
    the window. Kept in this process's memory; at most ``max_addresses`` addresses are
    remembered (the longest unseen go first)."""

    def __init__(
        self, max_failures: int = 5, window_ms: int = 10 * 60_000, max_addresses: int = 10_000
    ) -> None:
        self.max_failures = max_failures
        self.window_ms = window_ms
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: int) -> int:
        """Seconds until ``address`` may try again; 0 when it may now."""
        with self._lock:
            times = self._recent(address, now)
            if times is None or len(times) < self.max_failures:
                return 0
            return max(1, -(-(times[0] + self.window_ms - now) // 1000))

    def failed(self, address: str, now: int) -> None:
        with self._lock:
            times = self._recent(address, now)
            if times is None:
                times = self._failures[address] = deque(maxlen=self.max_failures)
                while len(self._failures) > self._max_addresses:
                    self._failures.popitem(last=False)
            times.append(now)
            self._failures.move_to_end(address)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str, now: int) -> deque[int] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self.window_ms:
            times.popleft()
        return times
