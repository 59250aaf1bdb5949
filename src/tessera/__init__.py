"""tessera: sessions for Python web apps.

Short-lived signed access tokens, rotating refresh tokens with theft detection,
revocation by session, by list or by user, all kept in your own database::

    import tessera
    from tessera.syncio import create_new_session, get_session_without_request_response

    tessera.init(database="sqlite:///sessions.db", access_token_validity=900)
    session = create_new_session("user-1", {"role": "admin"})
    tokens = session.get_all_session_tokens_dangerously()
    same = get_session_without_request_response(tokens["accessToken"])

``tessera.asyncio`` has the same functions for async code.
"""

from __future__ import annotations

from typing import Any

from ._headers import get_all_cors_headers
from ._tessera import Tessera
from .config import SessionConfig
from .devices import Device
from .engine.sessions import DeviceSession, SessionInformation, SessionPage
from .errors import (
    KeyMaterialError,
    SessionError,
    SessionLimitReachedError,
    StorageError,
    TesseraError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)

__version__ = "0.1.0"

__all__ = [
    "Device",
    "DeviceSession",
    "KeyMaterialError",
    "SessionConfig",
    "SessionError",
    "SessionInformation",
    "SessionLimitReachedError",
    "SessionPage",
    "StorageError",
    "Tessera",
    "TesseraError",
    "TokenTheftError",
    "TryRefreshTokenError",
    "UnauthorisedError",
    "__version__",
    "get_all_cors_headers",
    "get_default",
    "get_jwks",
    "init",
]

_default: Tessera | None = None


def init(database: str | None = None, **settings: Any) -> Tessera:
    """Set up the default ``Tessera`` object behind ``tessera.syncio`` and ``tessera.asyncio``.

    ``database`` is a URL (``sqlite:///sessions.db``, ``postgresql://…``, ``mysql://…``);
    without one, sessions go to ``tessera.db`` in the working directory. ``settings`` are
    the fields of ``SessionConfig`` (``access_token_validity=900``, …). Calling ``init``
    again replaces the default and closes the previous one.
    """
    global _default
    engine = Tessera(database, **settings)
    previous, _default = _default, engine
    if previous is not None:
        previous.close()
    return engine


def get_default() -> Tessera:
    """The object set up by ``init()``."""
    if _default is None:
        raise RuntimeError("tessera is not set up: call tessera.init() first")
    return _default


def get_jwks() -> dict[str, list[dict[str, str]]]:
    """The public keys that verify access tokens, as a JSON Web Key Set."""
    return get_default().syncio.get_jwks()
